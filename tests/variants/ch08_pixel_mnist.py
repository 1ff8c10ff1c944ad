"""Answers to chapter 8 written differently from the reference, as data: grade_id -> answer cell source.

Written from the student notebook only.  Each answer follows the instructions (raster order and a
float32 tensor, the permutation drawn by ``torch.randperm`` from its own generator and drawn once,
the device chosen override > $RNNCOURSE_DEVICE > GPU with ``torch.cuda.is_available()`` asked each
time, the order of the training step, evaluation in batches without gradients in eval mode) but
makes its own choices wherever they leave one open: the images go through NumPy, the time axis is
permuted with ``index_select``, the device is the first of a list of candidates, the gradients are
cleared through the model, evaluation uses ``torch.inference_mode`` and ``torch.split``.
"""

# every input (tensor or array, any dtype) goes through a float64 NumPy array, is divided there
# and cast to float32 at the end; the raster order comes from NumPy's C-order reshape
SEQUENCES = '''
def images_to_sequences(images, max_value):
    """(batch, rows, cols) array or tensor -> float32 tensor (batch, rows * cols, 1) in [0, 1]."""
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    pixels = np.asarray(images, dtype=np.float64)
    batch, rows, cols = pixels.shape
    scaled = pixels.reshape(batch, rows * cols, 1, order="C") / float(max_value)
    return torch.from_numpy(np.ascontiguousarray(scaled, dtype=np.float32))
'''

# the generator seeded in a separate statement; the time axis permuted with index_select;
# permuted_splits reads the length from the test split
PERMUTATION = '''
def make_permutation(length, seed):
    """int64 tensor (length,): a permutation of range(length) fixed by seed."""
    generator = torch.Generator()
    generator.manual_seed(int(seed))
    return torch.randperm(int(length), generator=generator, dtype=torch.int64)


def permute_pixels(x, perm):
    """x: (batch, time, features), perm: (time,) -> out with out[:, t] = x[:, perm[t]]."""
    index = torch.as_tensor(perm, dtype=torch.long, device=x.device)
    return torch.index_select(x, 1, index)


def permuted_splits(x_train, x_test, seed):
    """Apply one permutation, drawn from seed, to both splits -> (train, test, perm)."""
    perm = make_permutation(len(x_test[0]), seed)
    return permute_pixels(x_train, perm), permute_pixels(x_test, perm), perm
'''

# the candidates in order of precedence in a list, the first one given wins; the CUDA check on
# the torch.device's type
DEVICE = '''
import os


def choose_device(override=None):
    """torch.device: override, else $RNNCOURSE_DEVICE, else cuda when available, else cpu."""
    candidates = [override, os.environ.get("RNNCOURSE_DEVICE", "")]
    chosen = next((c for c in candidates if c is not None and c != ""), None)
    gpu = torch.cuda.is_available()
    if chosen is None:
        chosen = "cuda" if gpu else "cpu"
    device = torch.device(chosen)
    if device.type == "cuda" and not gpu:
        raise RuntimeError(f"device {device} was asked for, but torch.cuda.is_available() is False")
    return device
'''

# gradients cleared through the model (set to None), the loss as a CrossEntropyLoss module,
# keyword arguments to clip_grad_norm_, the float taken with float()
TRAIN_STEP = '''
def train_step(model, optimizer, x, y, clip=1.0):
    """One step on the batch x: (batch, time, features), y: (batch,) -> loss (float)."""
    device = next(model.parameters()).device
    inputs, targets = x.to(device), y.to(device)
    model.train(True)
    model.zero_grad(set_to_none=True)
    loss = torch.nn.CrossEntropyLoss()(model(inputs), targets)
    loss.backward()
    if clip is not None:
        torch.nn.utils.clip_grad_norm_(parameters=model.parameters(), max_norm=clip)
    optimizer.step()
    return float(loss.detach())
'''

# torch.inference_mode instead of no_grad, train(False) instead of eval(), batches from torch.split,
# the mode restored in a finally block
EVALUATE = '''
def evaluate(model, x, y, batch_size=1000):
    """Accuracy (float in [0, 1]) of model on x: (n, time, features), y: (n,)."""
    device = next(model.parameters()).device
    was_training = model.training
    model.train(False)
    correct = 0
    try:
        with torch.inference_mode():
            for xb, yb in zip(torch.split(x, batch_size), torch.split(y, batch_size)):
                predicted = model(xb.to(device)).argmax(dim=1)
                correct += int((predicted == yb.to(device)).sum())
    finally:
        model.train(was_training)
    return correct / len(x)
'''

VARIANT = {
    "sequences": SEQUENCES,
    "permutation": PERMUTATION,
    "device": DEVICE,
    "train_step": TRAIN_STEP,
    "evaluate": EVALUATE,
}
