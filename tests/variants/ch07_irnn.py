"""Answers to chapter 7 written differently from the reference, as data: grade_id -> answer cell source.

Each is correct within the instructions (the generator's draws come from ``rng`` in an
order of its own choosing), except the ``WRONG`` ones, each wrong in exactly one way.
"""

IDENTITY_INIT = '''
def identity_init(rnn, scale=1.0):
    """rnn: a torch.nn.RNN (any number of layers) -> the same rnn, with W_hh = scale * I and zero biases."""
    for name, parameter in rnn.named_parameters():
        with torch.no_grad():
            if name.startswith("weight_hh"):
                parameter.zero_()
                parameter.diagonal().fill_(scale)
            elif name.startswith("bias"):
                parameter.fill_(0.0)
    return rnn
'''

# values first, then the two marks of each row in a loop
VALUES_FIRST = '''
def adding_problem(batch_size, length, rng):
    """-> x: (batch_size, length, 2) float64, y: (batch_size,) float64; rng: np.random.Generator."""
    values = rng.random((batch_size, length))
    marks = np.zeros((batch_size, length))
    half = length // 2
    for row in range(batch_size):
        marks[row, rng.integers(half)] = 1.0
        marks[row, half + rng.integers(length - half)] = 1.0
    x = np.empty((batch_size, length, 2))
    x[:, :, 0], x[:, :, 1] = values, marks
    return x, (values * marks).sum(axis=1)
'''

# marks first (with choice), then the values
MARKS_FIRST = '''
def adding_problem(batch_size, length, rng):
    """-> x: (batch_size, length, 2) float64, y: (batch_size,) float64; rng: np.random.Generator."""
    half = length // 2
    first = rng.choice(half, size=batch_size)
    second = rng.choice(np.arange(half, length), size=batch_size)
    x = np.zeros((batch_size, length, 2))
    x[..., 0] = rng.uniform(size=(batch_size, length))
    rows = np.arange(batch_size)
    x[rows, first, 1] = 1.0
    x[rows, second, 1] = 1.0
    return x, x[rows, first, 0] + x[rows, second, 0]
'''

# trains on batches of its own (torch's generator), so that it does not depend on Part 2; the learning
# rate drops through torch.optim.lr_scheduler instead of a change of param_groups
TRAIN = '''
def train_adding_model(length, steps, seed=0):
    """Train a recurrent regressor on the adding problem; return a model mapping (B, length, 2) -> (B,)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    rnn = identity_init(torch.nn.RNN(2, 32, nonlinearity="relu", batch_first=True))
    head = torch.nn.Linear(32, 1)
    parameters = list(rnn.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(parameters, lr=2e-3)
    # the tenfold drop for the last quarter from a scheduler, stepped after every update
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[3 * steps // 4], gamma=0.1)

    def batch(n):
        values = torch.rand(n, length, generator=gen)
        half = length // 2
        first = torch.randint(0, half, (n,), generator=gen)
        second = torch.randint(half, length, (n,), generator=gen)
        marks = torch.zeros(n, length)
        marks[torch.arange(n), first] = 1.0
        marks[torch.arange(n), second] = 1.0
        return torch.stack([values, marks], dim=2), (values * marks).sum(dim=1)

    def predict(x):
        return head(rnn(x)[0][:, -1]).squeeze(-1)

    for _ in range(steps):
        x, y = batch(32)
        loss = torch.nn.functional.mse_loss(predict(x), y)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        schedule.step()
    return predict
'''

NOT_LEARNING = '''
def train_adding_model(length, steps, seed=0):
    """A model that has learned nothing: it always predicts 0."""
    return lambda x: torch.zeros(len(x))
'''

WRONG = {
    # both marks may land in the first half
    "marks_in_the_wrong_half": VALUES_FIRST.replace("half + rng.integers(length - half)", "rng.integers(half)"),
    # values uniform on [0, 2)
    "values_outside_unit_interval": VALUES_FIRST.replace("values = rng.random((batch_size, length))",
                                                         "values = 2 * rng.random((batch_size, length))"),
    # the target counts the first mark's value twice
    "wrong_targets": MARKS_FIRST.replace("x[rows, first, 0] + x[rows, second, 0]", "2 * x[rows, first, 0]"),
    # the global generator instead of rng
    "global_np_random": VALUES_FIRST.replace("rng.random(", "np.random.random(").replace(
        "rng.integers(", "np.random.randint("),
}

# points each wrong generator loses: the cells whose property it breaks (public 2, hidden 2)
LOSES = {"marks_in_the_wrong_half": 4, "values_outside_unit_interval": 4, "wrong_targets": 4,
         "global_np_random": 2}

PATCH_BUILTINS = '''
import builtins as _builtins, numpy as _np
_np.all = lambda *a, **k: True
_np.isclose = lambda a, b, *r, **k: _np.ones(_np.broadcast(a, b).shape, dtype=bool)
_builtins.abs = lambda value: 0.0
_builtins.bool = lambda *a, **k: True
'''

# the honest variant graded with every chapter's adversarial suite
VARIANT = {"identity_init": IDENTITY_INIT, "adding_problem": MARKS_FIRST, "train": TRAIN}
