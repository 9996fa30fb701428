#!/usr/bin/python3
"""The truth for test/torch/torch.check.ts (issue 24, "Checked by PyTorch itself").

Draws random cases from a seed (printed first) and computes what PyTorch says each xentropy call
must return: every input is drawn in float64, rounded to float32 (what xentropy receives), and the
truth is computed from those float32 values widened to float64; gradients by autograd in float64.

    /usr/bin/python3 scripts/torch_truth.py --seed 123 --out /tmp/truth      # writes truth.json, truth.bin
    /usr/bin/python3 scripts/torch_truth.py --seed 123 --out /tmp/truth --only kl --cases 50

Debian bookworm's python3-torch (1.13.1), python3-scipy (1.10.1); torchvision (python3-torchvision)
if present, for sigmoid_focal_loss (else the binary focal cases are skipped, and the output says so).

Each case holds the xentropy call (function, inputs, options) and its truth. Where docs/api.md or
docs/accuracy.md document that xentropy differs from PyTorch, the case lists the rule (RULES below),
`truth` holds the documented xentropy value (PyTorch's computation with the documented rule applied),
`torch` what PyTorch itself returns, and `doc_ok` whether PyTorch returns what the docs say it does.
A case without a rule has `truth` from PyTorch alone; the script also computes the documented form for
it and fails (exit 1) unless both agree, so the documented forms differ from PyTorch only where a rule
says so.

Where PyTorch has no function, the truth is PyTorch (or scipy) arithmetic written from the docs'
definition, still differentiated by autograd: cross-entropy of probabilities (Keras' clip), soft
targets and label smoothing on log-probabilities, sampleWeight, zLoss, softcap, the multi-class focal
loss, onAllIgnored 'zero', unit 'bits', entropy of probabilities (scipy.special.entr) and the
Jensen-Shannon divergence (scipy.special.rel_entr, checked against scipy.spatial.distance.jensenshannon).

Output: <out>.json (cases; every array is {"t": dtype, "o": byte offset, "n": length} into <out>.bin,
little-endian, so NaN, infinities and -0 keep their bits) and <out>.bin.
"""

import argparse
import json
import math
import sys
import time

import numpy as np
import scipy
import scipy.spatial.distance
import scipy.special
import torch
import torch.nn.functional as F

try:
    import torchvision
    from torchvision.ops import sigmoid_focal_loss
except ImportError:  # Debian's python3-torchvision is not among the suite's packages
    torchvision = None
    sigmoid_focal_loss = None

torch.set_default_dtype(torch.float64)
INF = math.inf
LN2 = math.log(2)

# Class counts every run draws from (SIMD lanes ±1, one more than a block), and a few large ones.
SMALL_CLASSES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65]
LARGE_CLASSES = [1000, 2049, 4097, 32000]

# Documented differences from PyTorch: rule -> where it is documented.
RULES = {
    'logsoftmax-posinf': "docs/accuracy.md, Non-finite inputs: softmax/logSoftmax of a row with +inf: PyTorch gives "
                         "NaN across the row, xentropy z - torch.logsumexp(z) (NaN at the +inf, 0 / -inf elsewhere); "
                         "crossEntropy follows (+inf, or NaN with the label on it; gradient NaN at it, -1 on the label)",
    'kl-p0-logq-neginf': "docs/api.md, Entropy and divergences: F.kl_div gives NaN for p_c = 0 with log q_c = -inf; "
                         "xentropy 0 (gradient 0 where p = 0)",
    'kl-logtarget-neginf': "docs/api.md, Entropy and divergences: F.kl_div gives NaN for log_target with log p_c = -inf; "
                           "xentropy 0",
    'ce-ignored-row-nonfinite': "docs/api.md, Options: ignoreIndex rows give loss 0 and gradient 0; PyTorch's gradient "
                                "on an ignored row whose logits hold a NaN or +inf, or only -inf, is NaN (its "
                                "log_softmax backward multiplies NaN by 0); listed among the differences",
    'bce-probs-clip': "docs/api.md, Binary cross-entropy / Where xentropy differs: F.binary_cross_entropy clamps the "
                      "log at -100, xentropy clips probabilities to [eps, 1 - eps] (gradient 0 outside)",
    'bce-logit-inf': "docs/accuracy.md, Non-finite inputs: binary logits +-inf give +inf when the sign disagrees "
                     "with the target, NaN when it agrees; F.binary_cross_entropy_with_logits gives NaN for -inf "
                     "with any target > 0; listed among the differences in docs/api.md",
}

# Differences from PyTorch found by this suite that the docs neither list nor give xentropy's value for:
# the elements concerned are not compared (the case lists them under `skip`); the suite prints how
# many, so that they stay visible until the docs or the library settle them.
UNDOCUMENTED: dict = {}

# The binary focal cases run only with torchvision, so their rule is only then one every run exercises.
if sigmoid_focal_loss is not None:
    RULES['bce-focal-logit-inf'] = (
        "docs/api.md, Where xentropy differs: focal binary cross-entropy at a logit of +-inf has the gradient's "
        "limit w alpha_t (1 - p_t)^gamma (sigma(x) - t); torchvision's sigmoid_focal_loss gives NaN there for gamma > 0")


class Blob:
    """Arrays for <out>.bin; each call returns the JSON reference to one."""

    DTYPES = {'f32': np.float32, 'f64': np.float64, 'i32': np.int32, 'u8': np.uint8}

    def __init__(self):
        self.parts = []
        self.size = 0

    def add(self, a, t):
        a = np.ascontiguousarray(np.asarray(a, dtype=self.DTYPES[t]).reshape(-1))
        a = a.astype(a.dtype.newbyteorder('<'), copy=False)
        ref = {'t': t, 'o': self.size, 'n': int(a.size)}
        data = a.tobytes()
        pad = (-len(data)) % 8
        self.parts.append(data + b'\0' * pad)
        self.size += len(data) + pad
        return ref

    def value(self, v):
        """A loss: a float64 array, one element for a reduced loss (JSON has no NaN or infinity)."""
        if isinstance(v, torch.Tensor):
            v = v.detach().numpy()
        return self.add(np.atleast_1d(np.asarray(v, dtype=np.float64)), 'f64')


# ---------------------------------------------------------------------------------------------------
# Drawing inputs (all float32)

def f32(a):
    return np.asarray(a, dtype=np.float64).astype(np.float32)


def wide(a):
    """A float32 array as a float64 tensor: the values xentropy receives, exactly."""
    return torch.from_numpy(np.asarray(a, dtype=np.float32).astype(np.float64))


def draw_classes(rng, k):
    # The first cases of each family take every small class count once, so each run has them all.
    if k < len(SMALL_CLASSES):
        return SMALL_CLASSES[k]
    if rng.random() < 0.04:
        return int(rng.choice(LARGE_CLASSES))
    return int(rng.choice(SMALL_CLASSES))


def draw_rows(rng, k, classes):
    if classes >= 1000:
        return int(rng.integers(0, 3)) if k % 7 else 1
    if k % 11 == 3:
        return 0
    if k % 5 == 1:
        return 1
    r = rng.random()
    return int(rng.integers(2, 9)) if r < 0.8 else int(rng.integers(9, 41))


def draw_logits(rng, n):
    sigma = float(rng.choice([0.5, 1.0, 3.0, 10.0, 30.0]))
    z = rng.normal(0.0, sigma, n)
    if rng.random() < 0.1:
        z = z + float(rng.choice([-1000.0, 100.0, 1000.0]))  # softmax is shift-invariant
    return f32(z)


def put_specials(rng, z, values, count):
    """Writes `count` values drawn from `values` at random positions of z (in place)."""
    if z.size == 0:
        return z
    for _ in range(count):
        z[rng.integers(0, z.size)] = values[rng.integers(0, len(values))]
    return z


def draw_distribution(rng, rows, classes, zeros=0.0):
    """Rows of probabilities summing to 1 (before rounding to float32), some entries exactly 0."""
    u = rng.random((rows, classes)) ** 3
    if zeros > 0:
        u[rng.random((rows, classes)) < zeros] = 0
    s = u.sum(axis=1, keepdims=True)
    out = np.where(s > 0, u / np.where(s > 0, s, 1), 1.0 / classes)
    return f32(out.reshape(-1))


def draw_unit_values(rng, n, specials=0.1):
    """Probabilities in [0, 1], not normalised, with exact 0 and 1 and values at the clip bounds."""
    p = rng.random(n)
    pick = rng.random(n) < specials
    p[pick] = rng.choice([0.0, 1.0, 0.0, 1.0, 1e-7, 1 - 1e-7, 1e-9, 1 - 1e-9, 0.5], size=int(pick.sum()))
    return f32(p)


def draw_weight(rng, n):
    w = rng.uniform(0.0, 4.0, n)
    w[rng.random(n) < 0.1] = 0.0
    w[rng.random(n) < 0.1] = 1.0
    return f32(w)


# ---------------------------------------------------------------------------------------------------
# Truth helpers

def autograd(fn, x):
    """fn(x) and the gradient of its sum (of the losses for 'none') with respect to x, float64."""
    x = x.clone().requires_grad_(True)
    loss = fn(x)
    if x.numel() == 0 or not loss.requires_grad:
        return loss.detach(), torch.zeros_like(x)
    (g,) = torch.autograd.grad(loss.sum(), x, allow_unused=True)
    return loss.detach(), (torch.zeros_like(x) if g is None else g)


def same(a, b, rel=1e-9, abs_=1e-300):
    """NaN-aware closeness of two float64 arrays or tensors (NaN only equals NaN, inf only itself)."""
    a = np.asarray(a.detach() if isinstance(a, torch.Tensor) else a, dtype=np.float64).reshape(-1)
    b = np.asarray(b.detach() if isinstance(b, torch.Tensor) else b, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        return False
    nan = np.isnan(a) | np.isnan(b)
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    fin = np.isfinite(a) & np.isfinite(b)
    if not np.array_equal(a[~fin & ~nan], b[~fin & ~nan]):
        return False
    return bool(np.all(np.abs(a[fin] - b[fin]) <= abs_ + rel * np.abs(b[fin])))


def ce_from_log_probs(lq, target, soft, weight, ignore_index, reduction, eps):
    """PyTorch 1.13's F.cross_entropy after its log_softmax (aten/src/ATen/native/LossNLL.cpp:
    cross_entropy_loss_label_smoothing and cross_entropy_loss_prob_target), on given log-probabilities:
    nll_loss itself for class indices, the same smoothing term and means."""
    C = lq.shape[1]
    wshape = [1, C] + [1] * (lq.dim() - 2)
    if soft:
        t = target * (1 - eps) + eps / C if eps > 0 else target
        w = weight.view(wshape) if weight is not None else 1.0
        per = -(lq * w * t).sum(1)
        if reduction == 'mean':
            return per.sum() / (lq.numel() / C) if lq.numel() else per.sum() * math.nan
        return per.sum() if reduction == 'sum' else per
    nll = F.nll_loss(lq, target, weight=weight, ignore_index=ignore_index, reduction=reduction)
    if eps == 0:
        return nll
    ignore = target == ignore_index
    smooth = -((lq * weight.view(wshape)) if weight is not None else lq).sum(1)
    smooth = smooth.masked_fill(ignore, 0.0)
    if reduction == 'mean':
        den = weight[target[~ignore]].sum() if weight is not None else (~ignore).sum()
        smooth = smooth.sum() / den
    elif reduction == 'sum':
        smooth = smooth.sum()
    return (1 - eps) * nll + smooth * (eps / C)


# ---------------------------------------------------------------------------------------------------
# Families. Each returns a case dict (without id) or None.

class Gen:
    def __init__(self, seed, blob):
        self.rng = np.random.default_rng(seed)
        self.blob = blob
        self.self_checks = 0

    def check(self, ok, what):
        """A self-check of the truth: the documented form must equal PyTorch where no rule applies."""
        self.self_checks += 1
        if not ok:
            raise AssertionError(what)

    # -- row functions: logSumExp, logSoftmax, softmax ---------------------------------------------
    def rows(self, k):
        rng, b = self.rng, self.blob
        C = draw_classes(rng, k)
        N = draw_rows(rng, k, C)
        z = draw_logits(rng, N * C)
        mode = k % 6
        if mode == 1:
            put_specials(rng, z, [-INF], int(rng.integers(1, 4)))
        elif mode == 3:
            put_specials(rng, z, [INF, -INF, INF], int(rng.integers(1, 3)))  # the +inf rule every run
        elif mode == 5:
            put_specials(rng, z, [INF, -INF, math.nan], int(rng.integers(1, 3)))
        if N > 0 and k % 13 == 0:
            z[:C] = -INF  # a row of only -inf
        zt = wide(z).view(N, C)
        lse = torch.logsumexp(zt, 1)
        lsm = F.log_softmax(zt, 1)
        sm = F.softmax(zt, 1)
        # Documented: rows with +inf (and no NaN) have z - torch.logsumexp(z) and its exp.
        posinf = (zt == INF).any(1) & ~torch.isnan(zt).any(1)
        doc_lsm = torch.where(posinf[:, None], zt - lse[:, None], lsm)
        doc_sm = torch.where(posinf[:, None], torch.exp(zt - lse[:, None]), sm)
        case = {
            'fn': 'rows', 'desc': f'N={N} C={C}',
            'call': {'z': b.add(z, 'f32'), 'classes': C},
            'truth': {'logSumExp': b.value(lse), 'logSoftmax': b.value(doc_lsm), 'softmax': b.value(doc_sm)},
            'rules': [],
        }
        if bool(posinf.any()):
            case['rules'] = ['logsoftmax-posinf']
            case['torch'] = {'logSoftmax': b.value(lsm), 'softmax': b.value(sm)}
            rows_nan = torch.isnan(lsm[posinf]).all() and torch.isnan(sm[posinf]).all()
            case['doc_ok'] = {'logsoftmax-posinf': bool(rows_nan)}
        else:
            self.check(same(doc_lsm, lsm) and same(doc_sm, sm), 'rows: documented form differs from PyTorch')
        return case

    # -- cross-entropy ---------------------------------------------------------------------------------
    def ce(self, k, variant):
        """variant: 'logits', 'spatial', 'logProbs', 'probs', 'extras' (softcap, zLoss, focal, sampleWeight,
        onAllIgnored; no PyTorch function: composed)."""
        rng, b = self.rng, self.blob
        C = draw_classes(rng, k)
        N = draw_rows(rng, k, C)
        dims = ()
        if variant == 'spatial':
            C = int(rng.choice([1, 2, 3, 4, 5, 7, 9, 16, 17]))
            N = int(rng.integers(0, 4))
            dims = tuple(int(d) for d in rng.integers(1, 5, size=int(rng.integers(1, 3))))
        S = int(np.prod(dims)) if dims else 1
        R = N * S  # rows of C classes
        frm = variant if variant in ('logProbs', 'probs') else 'logits'
        if variant == 'spatial' and rng.random() < 0.25:
            frm = 'logProbs'  # nll_loss in PyTorch's layout
        soft = bool(rng.random() < 0.35)
        reduction = str(rng.choice(['mean', 'sum', 'none']))
        weight = draw_weight(rng, C) if rng.random() < 0.4 else None
        ignore_index = int(rng.choice([-100, -100, -1, 0, 3]))
        eps_ls = float(rng.choice([0.0, 0.0, 0.1, 0.37, 1.0])) if rng.random() < 0.5 else 0.0
        unit = 'bits' if rng.random() < 0.1 else None
        options = {'classes': C, 'reduction': reduction}
        extras = {}

        # The input, [N, C, d1..dK] (class-last [N, C] when dims is empty).
        if frm == 'logits':
            x = draw_logits(rng, R * C)
            if variant in ('logits', 'spatial'):
                mode = k % 8
                if mode == 1:
                    put_specials(rng, x, [-INF], int(rng.integers(1, 4)))
                elif mode == 3:
                    put_specials(rng, x, [INF, -INF], int(rng.integers(1, 3)))
                elif mode == 5:
                    put_specials(rng, x, [math.nan, -INF, INF], 1)
            else:
                x = f32(np.clip(x, -60, 60))  # the composed extras: finite logits
        elif frm == 'logProbs':
            if rng.random() < 0.5:
                x = f32(F.log_softmax(wide(draw_logits(rng, R * C)).view(R, C), 1).numpy().reshape(-1))
            else:
                x = f32(-np.abs(rng.normal(0, 5, R * C)))
            if k % 3 == 1:
                put_specials(rng, x, [-INF, 0.0], int(rng.integers(1, 3)))
        else:
            x = draw_distribution(rng, R, C, zeros=0.1).copy() if rng.random() < 0.6 else draw_unit_values(rng, R * C)
            eps = float(rng.choice([1e-7, 1e-7, 1e-3, 0.25])) if rng.random() < 0.5 else None
            if eps is not None:
                options['epsilon'] = eps
        if dims:
            # draw_* give rows class-last; PyTorch's layout has the classes S apart.
            x = f32(x.reshape(N, S, C).transpose(0, 2, 1).reshape(-1))

        # The target.
        if soft:
            t = draw_distribution(rng, R, C, zeros=0.15)
            if dims:
                t = f32(t.reshape(N, S, C).transpose(0, 2, 1).reshape(-1))
            target_ref, target_kind = b.add(t, 'f32'), 'soft'
            tt = wide(t).view((N, C) + dims)
        else:
            y = rng.integers(0, C, R).astype(np.int32)
            y[rng.random(R) < 0.15] = ignore_index
            if k % 17 == 4:
                y[:] = ignore_index  # all ignored: 'mean' is NaN (or 0 with onAllIgnored 'zero')
            ok_u8 = bool(np.all(y >= 0)) and C <= 256
            kinds = ['i32', 'array'] + (['u8', 'u16', 'u32'] if ok_u8 else [])
            target_kind = str(rng.choice(kinds))  # every integer array xentropy takes
            target_ref = b.add(y, 'i32')
            tt = torch.from_numpy(y.astype(np.int64)).view((N,) + dims)
            if ignore_index != -100:
                options['ignoreIndex'] = ignore_index
        if frm != 'logits':
            options['from'] = frm
        if weight is not None:
            options['weight'] = b.add(weight, 'f32')
        if eps_ls > 0 or rng.random() < 0.1:
            options['labelSmoothing'] = eps_ls
        if unit:
            options['unit'] = unit
        if dims:
            options['spatial'] = S

        sample_weight = None
        if variant == 'extras':
            kind = str(rng.choice(['softcap', 'zLoss', 'focal', 'sampleWeight', 'softcap+sampleWeight', 'zLoss+sampleWeight']))
            if 'softcap' in kind:
                extras['softcap'] = float(rng.choice([1.0, 5.0, 30.0]))
            if 'zLoss' in kind:
                extras['zLoss'] = float(rng.choice([1e-4, 1e-2]))
            if kind == 'focal':
                extras['focal'] = {'gamma': float(rng.choice([0.0, 1.0, 2.0, 3.5])), 'alpha': float(rng.choice([0.25, 1.0]))}
            if 'sampleWeight' in kind:
                sample_weight = draw_weight(rng, R)
                options['sampleWeight'] = b.add(sample_weight, 'f32')
            if rng.random() < 0.3:
                options['onAllIgnored'] = 'zero'
            options.update(extras)

        wt = wide(weight) if weight is not None else None
        xt = wide(x).view((N, C) + dims)
        lo = float(np.float32(options.get('epsilon', 1e-7)))
        hi = float(np.float32(1 - lo))

        def per_row_losses_and_denominator(lq):
            """'none' losses of the composed cross-entropy (class-last rows) and the mean's denominator."""
            per = ce_from_log_probs(lq, tt, soft, wt, ignore_index, 'none', eps_ls)
            if soft:
                den = torch.tensor(float(R))
            else:
                keep = tt != ignore_index
                den = (wt[tt[keep]].sum() if wt is not None else keep.sum().double())
            return per, den

        def composed(xv, documented=False):
            """The loss as docs/api.md defines it, from PyTorch's pieces (used for every non-PyTorch option).
            documented=True applies the documented differences: an ignored row has gradient 0 whatever its
            logits; a row with +inf (and no NaN) has log-probabilities z - torch.logsumexp(z). Each branch
            of a torch.where sees only inputs it is finite on, so that no NaN leaks through its gradient."""
            cap = extras.get('softcap')
            zin = cap * torch.tanh(xv / cap) if cap else xv
            if documented and frm == 'logits' and not soft:
                ignored = (tt == ignore_index).unsqueeze(1)
                zin = torch.where(ignored, torch.zeros_like(zin), zin)
            if frm == 'logits':
                rowinf = torch.zeros_like(zin[:, :1], dtype=torch.bool)
                if documented:
                    rowinf = (zin == INF).any(1, keepdim=True) & ~torch.isnan(zin).any(1, keepdim=True)
                z_ok = torch.where(rowinf, torch.zeros_like(zin), zin)
                z_inf = torch.where(rowinf, zin, torch.zeros_like(zin))
                lse_inf = torch.logsumexp(z_inf, 1, keepdim=True)
                lq = torch.where(rowinf, z_inf - lse_inf, F.log_softmax(z_ok, 1))
                lse = torch.where(rowinf, lse_inf, torch.logsumexp(z_ok, 1, keepdim=True))
            elif frm == 'logProbs':
                lq = zin
            else:
                lq = torch.log(torch.clamp(zin, lo, hi))
            if 'focal' in extras:
                g, al = extras['focal']['gamma'], extras['focal']['alpha']
                a = self.coefficients(tt, soft, wt, ignore_index, eps_ls, C, dims)
                p = torch.exp(lq)
                term = al * a * (1 - p) ** g * lq
                # Ignored rows do not depend on the input; counted ones do, also through a_c = 0 (as
                # nll_loss, whose NaN 'mean' over zero weights has a NaN gradient on every counted row).
                if not soft:
                    term = torch.where((tt != ignore_index).unsqueeze(1), term, torch.zeros_like(term))
                per = -term.sum(1)
                _, den = per_row_losses_and_denominator(lq.detach())
            else:
                per, den = per_row_losses_and_denominator(lq)
            if 'zLoss' in extras:
                counted = torch.ones_like(per, dtype=torch.bool) if soft else tt != ignore_index
                per = per + torch.where(counted, extras['zLoss'] * lse.squeeze(1) ** 2, torch.zeros_like(per))
            if sample_weight is not None:
                sw = wide(sample_weight).view(per.shape)
                per = per * sw
                if soft:
                    den = sw.sum()
                else:
                    keep = tt != ignore_index
                    wy = wt[tt.clamp(min=0, max=C - 1)] if wt is not None else torch.ones_like(sw)
                    den = torch.where(keep, sw * wy, torch.zeros_like(sw)).sum()
            if reduction == 'none':
                out = per.reshape(-1)
            elif reduction == 'sum':
                out = per.sum()
            elif float(den) == 0:
                # docs/api.md, Reductions: a 'mean' over no counted rows (or weights summing to 0) is NaN,
                # with a NaN gradient where the loss depends on the input, 0 on ignored rows; or, with
                # onAllIgnored 'zero', 0 with a zero gradient.
                out = per.sum() * (0.0 if options.get('onAllIgnored') == 'zero' else math.nan)
            else:
                out = per.sum() / den
            return out / LN2 if unit == 'bits' else out

        def pure_torch(xv):
            """PyTorch's own function where it has one, else the composed form."""
            plain = not extras and sample_weight is None and options.get('onAllIgnored') != 'zero'
            if plain and frm == 'logits':
                out = F.cross_entropy(xv, tt, weight=wt, ignore_index=-100 if soft else ignore_index,
                                      reduction=reduction, label_smoothing=eps_ls)
            elif plain and frm == 'logProbs' and not soft and eps_ls == 0:
                out = F.nll_loss(xv, tt, weight=wt, ignore_index=ignore_index, reduction=reduction)
            else:
                return composed(xv)
            out = out.reshape(-1) if reduction == 'none' else out
            return out / LN2 if unit == 'bits' else out

        torch_loss, torch_grad = autograd(pure_torch, xt)
        doc_loss, doc_grad = autograd(lambda v: composed(v, documented=True), xt)
        rules = []
        cap = extras.get('softcap')
        if frm == 'logits' and not cap:
            nan_row = torch.isnan(xt).any(1)
            rowinf = (xt == INF).any(1) & ~nan_row
            counted = torch.ones_like(rowinf) if soft else tt != ignore_index
            affected = rowinf & counted
            if bool(affected.any()):
                rules.append('logsoftmax-posinf')
            # Ignored rows whose log_softmax is NaN (a NaN, a +inf, or only -inf): PyTorch's gradient is NaN.
            bad_ignored = (nan_row | (xt == INF).any(1) | (xt == -INF).all(1)) & ~counted
            if bool(bad_ignored.any()):
                rules.append('ce-ignored-row-nonfinite')
        case = {
            'fn': 'ce', 'desc': f'{variant} N={N} C={C} dims={list(dims)} soft={soft}',
            'call': {'input': b.add(x, 'f32'), 'target': target_ref, 'targetKind': target_kind, 'options': options},
            'rules': rules,
        }
        if rules:
            case['truth'] = {'loss': b.value(doc_loss), 'grad': b.value(doc_grad)}
            case['torch'] = {'loss': b.value(torch_loss), 'grad': b.value(torch_grad)}
            doc_ok = {}
            if 'logsoftmax-posinf' in rules:
                # PyTorch: NaN for every row the rule touches (its log_softmax is NaN across the row).
                doc_ok['logsoftmax-posinf'] = bool(torch.isnan(F.log_softmax(xt, 1)).all(1)[affected].all())
            if 'ce-ignored-row-nonfinite' in rules:
                g = torch_grad.movedim(1, -1)[bad_ignored]
                doc_ok['ce-ignored-row-nonfinite'] = bool(torch.isnan(g).all())
            case['doc_ok'] = doc_ok
        else:
            self.check(same(doc_loss, torch_loss) and same(doc_grad, torch_grad, abs_=1e-14),
                       f'ce {case["desc"]} {options}: documented form differs from PyTorch')
            case['truth'] = {'loss': b.value(torch_loss), 'grad': b.value(torch_grad)}
        case['truth']['lossScalar'] = reduction != 'none'
        return case

    @staticmethod
    def coefficients(tt, soft, wt, ignore_index, eps, C, dims):
        """a_c of docs/api.md (Cross-entropy), [N, C, d...]: the weighted, smoothed target; 0 on ignored rows."""
        wshape = [1, C] + [1] * len(dims)
        w = wt.view(wshape) if wt is not None else 1.0
        if soft:
            return w * ((1 - eps) * tt + eps / C)
        keep = tt != ignore_index
        onehot = F.one_hot(tt.clamp(min=0, max=C - 1), C).movedim(-1, 1).double()
        a = w * ((1 - eps) * onehot + eps / C)
        return a * keep.unsqueeze(1)

    # -- binary cross-entropy --------------------------------------------------------------------------
    def bce(self, k, variant):
        """variant: 'logits' (F.binary_cross_entropy_with_logits), 'probs' (F.binary_cross_entropy),
        'focal' (torchvision.ops.sigmoid_focal_loss)."""
        rng, b = self.rng, self.blob
        C = draw_classes(rng, k) if rng.random() < 0.7 else 1
        N = draw_rows(rng, k, C)
        n = N * C
        reduction = str(rng.choice(['mean', 'sum', 'none']))
        options = {'classes': C, 'reduction': reduction}
        weight = draw_weight(rng, C) if rng.random() < 0.4 else None
        pos_weight = draw_weight(rng, C) if variant == 'logits' and rng.random() < 0.4 else None
        ls = float(rng.choice([0.1, 0.37, 1.0])) if rng.random() < 0.25 else 0.0
        unit = 'bits' if rng.random() < 0.1 else None
        if rng.random() < 0.5:
            t = f32(rng.random(n))
            t[rng.random(n) < 0.2] = rng.choice([0.0, 1.0])
            target_ref = b.add(t, 'f32')
        else:
            t = f32(rng.integers(0, 2, n))
            target_ref = b.add(t.astype(np.uint8), 'u8')
        if variant == 'probs':
            x = draw_unit_values(rng, n, specials=0.15 if k % 2 else 0.0)
            eps = float(rng.choice([1e-7, 1e-3])) if rng.random() < 0.5 else None
            if eps is not None:
                options['epsilon'] = eps
            options['from'] = 'probs'
        else:
            x = draw_logits(rng, n)
            if k % 4 == 1:
                put_specials(rng, x, [INF, -INF, math.nan] if variant == 'logits' else [INF, -INF], int(rng.integers(1, 4)))
        focal = None
        if variant == 'focal':
            focal = {'gamma': float(rng.choice([0.0, 1.0, 2.0, 3.5])), 'alpha': float(rng.choice([0.0, 0.25, 0.5, 1.0]))}
            options['focal'] = focal
        if weight is not None:
            options['weight'] = b.add(weight, 'f32')
        if pos_weight is not None:
            options['posWeight'] = b.add(pos_weight, 'f32')
        if ls > 0 or rng.random() < 0.1:
            options['labelSmoothing'] = ls
        if unit:
            options['unit'] = unit

        xt = wide(x).view(N, C)
        tt = wide(t).view(N, C)
        ts = tt * (1 - ls) + ls / 2
        wt = wide(weight) if weight is not None else None
        pwt = wide(pos_weight) if pos_weight is not None else None
        lo = float(np.float32(options.get('epsilon', 1e-7)))
        hi = float(np.float32(1 - options.get('epsilon', 1e-7)))

        def finish(out):
            out = out.reshape(-1) if reduction == 'none' else out
            return out / LN2 if unit == 'bits' else out

        def reduce(per):
            if reduction == 'none':
                return per
            return per.sum() if reduction == 'sum' else per.mean()

        def pure_torch(xv):
            if variant == 'logits':
                return finish(F.binary_cross_entropy_with_logits(xv, ts, weight=wt, pos_weight=pwt, reduction=reduction))
            if variant == 'probs':
                return finish(F.binary_cross_entropy(xv, ts, weight=wt, reduction=reduction))
            per = sigmoid_focal_loss(xv, ts, alpha=focal['alpha'], gamma=focal['gamma'], reduction='none')
            return finish(reduce(per * wt if wt is not None else per))

        def documented(xv):
            if variant == 'probs':
                return finish(F.binary_cross_entropy(torch.clamp(xv, lo, hi), ts, weight=wt, reduction=reduction))
            # docs/api.md: the stable form "evaluated as a sum of non-negative terms",
            # -w [pw t log sigma(x) + (1 - t) log(1 - sigma(x))], whose -inf / +inf values the
            # accuracy.md table gives; elsewhere it is PyTorch's own function.
            pw = pwt if pwt is not None else 1.0
            inf = torch.isinf(xv)
            # Each torch.where branch sees only the inputs it is finite on (no NaN through its gradient).
            x_inf = torch.where(inf, xv, torch.zeros_like(xv))
            x_fin = torch.where(inf, torch.zeros_like(xv), xv)
            sp = torch.log1p(torch.exp(-x_inf.abs()))
            bce = pw * ts * (sp + torch.clamp(-x_inf, min=0)) + (1 - ts) * (sp + torch.clamp(x_inf, min=0))
            if variant == 'focal':
                p = torch.sigmoid(x_inf)
                p_t = p * ts + (1 - p) * (1 - ts)
                a_t = focal['alpha'] * ts + (1 - focal['alpha']) * (1 - ts)
                per_inf = a_t * (1 - p_t) ** focal['gamma'] * bce
                per_torch = sigmoid_focal_loss(x_fin, ts, alpha=focal['alpha'], gamma=focal['gamma'], reduction='none')
            else:
                per_inf = bce
                per_torch = F.binary_cross_entropy_with_logits(x_fin, ts, pos_weight=pwt, reduction='none')
            per = torch.where(inf, per_inf, per_torch)
            if wt is not None:
                per = per * wt
            return finish(reduce(per))

        torch_loss, torch_grad = autograd(pure_torch, xt)
        doc_loss, doc_grad = autograd(documented, xt)
        rules = []
        focal_inf = variant == 'focal' and bool(torch.isinf(xt).any())
        if focal_inf:
            # The documented gradient at +-inf logits is its limit w alpha_t (1 - p_t)^gamma (sigma(x) - t):
            # the focal factor's own term, gamma (1 - p_t)^(gamma - 1) p_t' bce, vanishes there (|x| e^-|x|).
            inf = torch.isinf(xt)
            a_t = focal['alpha'] * ts + (1 - focal['alpha']) * (1 - ts)
            sig = (xt > 0).to(torch.float64)
            p_t = sig * ts + (1 - sig) * (1 - ts)
            lim = a_t * (1 - p_t) ** focal['gamma'] * (sig - ts)
            if wt is not None:
                lim = lim * wt
            if reduction == 'mean':
                lim = lim / xt.numel()
            if unit == 'bits':
                lim = lim / LN2
            doc_grad = torch.where(inf, lim, doc_grad.view(N, C)).reshape(doc_grad.shape)
            if focal['gamma'] > 0:
                rules.append('bce-focal-logit-inf')
        if variant == 'probs' and bool(((xt < lo) | (xt > hi)).any()):
            rules.append('bce-probs-clip')
        if variant != 'probs' and bool((xt == -INF).logical_and(ts > 0).any()):
            rules.append('bce-logit-inf')
        case = {
            'fn': 'bce', 'desc': f'{variant} N={N} C={C}',
            'call': {'input': b.add(x, 'f32'), 'target': target_ref, 'options': options},
            'rules': rules,
        }
        if rules:
            case['truth'] = {'loss': b.value(doc_loss), 'grad': b.value(doc_grad)}
            case['torch'] = {'loss': b.value(torch_loss), 'grad': b.value(torch_grad)}
            doc_ok = {}
            if 'bce-probs-clip' in rules:
                # PyTorch's clamp of the log at -100, element by element.
                raw = F.binary_cross_entropy(xt, ts, reduction='none')
                want = -(ts * torch.clamp(torch.log(xt), min=-100) + (1 - ts) * torch.clamp(torch.log1p(-xt), min=-100))
                doc_ok['bce-probs-clip'] = same(raw, want, rel=1e-12)
            if 'bce-logit-inf' in rules:
                raw = (F.binary_cross_entropy_with_logits(xt, ts, pos_weight=pwt, reduction='none') if variant == 'logits'
                       else sigmoid_focal_loss(xt, ts, alpha=focal['alpha'], gamma=focal['gamma'], reduction='none'))
                doc_ok['bce-logit-inf'] = bool(torch.isnan(raw[(xt == -INF) & (ts > 0)]).all())
            if 'bce-focal-logit-inf' in rules:
                doc_ok['bce-focal-logit-inf'] = bool(torch.isnan(torch_grad.view(N, C)[torch.isinf(xt)]).all())
            case['doc_ok'] = doc_ok
        else:
            self.check(same(doc_loss, torch_loss) and same(doc_grad, torch_grad, abs_=1e-14),
                       f'bce {case["desc"]} {options}: documented form differs from PyTorch')
            case['truth'] = {'loss': b.value(torch_loss), 'grad': b.value(torch_grad)}
        case['truth']['lossScalar'] = reduction != 'none'
        return case

    # -- entropy ---------------------------------------------------------------------------------------
    def entropy(self, k):
        rng, b = self.rng, self.blob
        C = draw_classes(rng, k)
        N = draw_rows(rng, k, C)
        frm = 'logits' if k % 2 else 'probs'
        reduction = str(rng.choice(['none', 'mean', 'sum']))
        unit = 'bits' if rng.random() < 0.1 else None
        options = {'from': frm, 'reduction': reduction}
        if unit:
            options['unit'] = unit
        if frm == 'logits':
            x = draw_logits(rng, N * C)
            if k % 4 == 1:
                put_specials(rng, x, [-INF, -INF, INF, math.nan], int(rng.integers(1, 3)))
            # PyTorch's own: Categorical(logits).entropy() (logits clamped to finfo.min, so -inf counts 0).
            per = torch.distributions.Categorical(logits=wide(x).view(N, C), validate_args=False).entropy()
            per = torch.as_tensor(per).reshape(-1)
        else:
            x = draw_distribution(rng, N, C, zeros=0.2) if rng.random() < 0.5 else draw_unit_values(rng, N * C)
            per = torch.from_numpy(scipy.special.entr(np.asarray(x, np.float64).reshape(N, C)).sum(axis=1))
        h = per if reduction == 'none' else (per.sum() if reduction == 'sum' else per.mean())
        if unit:
            h = h / LN2
        return {
            'fn': 'entropy', 'desc': f'{frm} N={N} C={C}',
            'call': {'p': b.add(x, 'f32'), 'classes': C, 'options': options},
            'truth': {'loss': b.value(h), 'lossScalar': reduction != 'none'},
            'rules': [],
        }

    # -- KL divergence ---------------------------------------------------------------------------------
    def kl(self, k):
        rng, b = self.rng, self.blob
        C = draw_classes(rng, k)
        N = draw_rows(rng, k, C)
        frm = ['probs', 'logProbs', 'logits'][k % 3]
        log_target = bool(rng.random() < 0.3)
        reduction = str(rng.choice(['batchmean', 'mean', 'sum', 'none']))
        unit = 'bits' if rng.random() < 0.1 else None
        options = {'from': frm, 'reduction': reduction}
        eps = 0.0
        if frm == 'probs' and rng.random() < 0.5:
            eps = float(rng.choice([0.0, 1e-7, 1e-3]))
            options['epsilon'] = eps
        if log_target:
            options['logTarget'] = True
        if unit:
            options['unit'] = unit
        special = k % 4 == 2  # zeros of p against log q = -inf every run
        p = draw_distribution(rng, N, C, zeros=0.25 if special else 0.1) if rng.random() < 0.7 else draw_unit_values(rng, N * C)
        if frm == 'probs':
            q = draw_distribution(rng, N, C, zeros=0.25 if special else 0.05) if rng.random() < 0.7 else draw_unit_values(rng, N * C)
        elif frm == 'logProbs':
            q = f32(F.log_softmax(wide(draw_logits(rng, N * C)).view(N, C), 1).numpy().reshape(-1)) if N * C else f32([])
            if special:
                put_specials(rng, q, [-INF], int(rng.integers(1, 4)))
        else:
            q = draw_logits(rng, N * C)
            if special:
                put_specials(rng, q, [-INF], int(rng.integers(1, 4)))
            elif k % 8 == 5:
                put_specials(rng, q, [INF, math.nan], 1)
        with np.errstate(divide='ignore'):
            p_arg = f32(np.log(np.asarray(p, np.float64))) if log_target else p  # log 0 = -inf, exactly
        pt = wide(p_arg).view(N, C)
        p_prob = torch.exp(pt) if log_target else pt
        eps32 = float(np.float32(eps))

        def log_q(qv):
            if frm == 'logits':
                return F.log_softmax(qv, 1)
            if frm == 'logProbs':
                return qv
            return qv.log() if eps32 == 0 else qv.clamp_min(eps32).log()

        div = {'batchmean': max(N, 0), 'mean': N * C, 'sum': 1, 'none': 1}[reduction]

        def finish(per_row):
            out = per_row if reduction == 'none' else per_row.sum() / div if reduction != 'sum' else per_row.sum()
            return out / LN2 if unit else out

        def pure_torch(qv):
            el = F.kl_div(log_q(qv), pt, reduction='none', log_target=log_target)
            return finish(el.sum(1))

        zero_p = p_prob == 0
        if frm == 'logits':
            # docs/api.md: a logits row without a finite log-sum-exp is NaN whatever p is.
            zero_p = zero_p & torch.isfinite(torch.logsumexp(wide(q).view(N, C), 1, keepdim=True))

        def documented(qv):
            # F.kl_div with the terms of p_c = 0 (log p_c = -inf with logTarget) set to 0, as documented.
            safe = torch.where(zero_p & (qv == 0), torch.ones_like(qv), qv) if frm == 'probs' else qv
            el = F.kl_div(log_q(safe), pt, reduction='none', log_target=log_target)
            return finish(torch.where(zero_p, torch.zeros_like(el), el).sum(1))

        qt = wide(q).view(N, C)
        torch_loss, torch_grad = autograd(pure_torch, qt)
        doc_loss, doc_grad = autograd(documented, qt)
        lq = log_q(qt).detach()
        rules = []
        if log_target and bool((pt == -INF).any()):
            rules.append('kl-logtarget-neginf')
        hit = zero_p & (lq == -INF)
        if frm == 'logits':
            hit = hit & torch.isfinite(torch.logsumexp(qt, 1, keepdim=True))  # else the row is NaN anyway
        if bool(hit.any()) and not log_target:
            rules.append('kl-p0-logq-neginf')
        case = {
            'fn': 'kl', 'desc': f'{frm} N={N} C={C} logTarget={log_target}',
            'call': {'p': b.add(p_arg, 'f32'), 'q': b.add(q, 'f32'), 'classes': C, 'options': options},
            'rules': rules,
        }
        if rules:
            case['truth'] = {'loss': b.value(doc_loss), 'grad': b.value(doc_grad)}
            case['torch'] = {'loss': b.value(torch_loss), 'grad': b.value(torch_grad)}
            el = F.kl_div(lq, pt, reduction='none', log_target=log_target)
            doc_ok = {}
            if 'kl-logtarget-neginf' in rules:
                doc_ok['kl-logtarget-neginf'] = bool(torch.isnan(el[pt == -INF]).all())
            if 'kl-p0-logq-neginf' in rules:
                doc_ok['kl-p0-logq-neginf'] = bool(torch.isnan(el[hit]).all())
            case['doc_ok'] = doc_ok
        else:
            self.check(same(doc_loss, torch_loss) and same(doc_grad, torch_grad, abs_=1e-14),
                       f'kl {case["desc"]} {options}: documented form differs from PyTorch')
            case['truth'] = {'loss': b.value(torch_loss), 'grad': b.value(torch_grad)}
        case['truth']['lossScalar'] = reduction != 'none'
        return case

    # -- Jensen-Shannon divergence ---------------------------------------------------------------------
    def js(self, k):
        rng, b = self.rng, self.blob
        C = draw_classes(rng, k)
        N = draw_rows(rng, k, C)
        frm = 'logits' if k % 3 == 2 else 'probs'
        reduction = str(rng.choice(['batchmean', 'mean', 'sum', 'none']))
        unit = 'bits' if rng.random() < 0.1 else None
        options = {'reduction': reduction}
        if frm == 'logits':
            options['from'] = 'logits'
        if unit:
            options['unit'] = unit
        if frm == 'logits':
            p, q = draw_logits(rng, N * C), draw_logits(rng, N * C)
            if k % 6 == 5:
                put_specials(rng, p, [-INF, -INF, INF], 1)
            P = F.softmax(wide(p).view(N, C), 1).numpy()
            Q = F.softmax(wide(q).view(N, C), 1).numpy()
        else:
            normalised = rng.random() < 0.6
            p = draw_distribution(rng, N, C, zeros=0.2) if normalised else draw_unit_values(rng, N * C)
            q = draw_distribution(rng, N, C, zeros=0.2) if normalised else draw_unit_values(rng, N * C)
            if k % 5 == 0:
                q = p.copy()  # JS(p, p) = 0
            P = np.asarray(p, np.float64).reshape(N, C)
            Q = np.asarray(q, np.float64).reshape(N, C)
        M = (P + Q) / 2
        per = 0.5 * scipy.special.rel_entr(P, M).sum(axis=1) + 0.5 * scipy.special.rel_entr(Q, M).sum(axis=1)
        if frm == 'probs' and N > 0:
            # scipy's own function (it renormalises each row; the JS divergence is its square): a check of
            # the truth on rows that sum to 1 and are not all 0.
            sums = P.sum(axis=1)
            okrows = (np.abs(sums - 1) < 1e-6) & (np.abs(Q.sum(axis=1) - 1) < 1e-6)
            if okrows.any():
                js2 = scipy.spatial.distance.jensenshannon(P[okrows], Q[okrows], axis=1) ** 2
                self.check(bool(np.all(np.abs(js2 - per[okrows]) <= 1e-5 + 1e-5 * per[okrows])),
                           'js: rel_entr form differs from scipy.spatial.distance.jensenshannon')
        div = {'batchmean': N, 'mean': N * C, 'sum': 1, 'none': 1}[reduction]
        with np.errstate(invalid='ignore', divide='ignore'):
            out = per if reduction == 'none' else (per.sum() if reduction == 'sum' else np.float64(per.sum()) / div)
        if unit:
            out = out / LN2
        return {
            'fn': 'js', 'desc': f'{frm} N={N} C={C}',
            'call': {'p': b.add(p, 'f32'), 'q': b.add(q, 'f32'), 'classes': C, 'options': options},
            'truth': {'loss': b.value(out), 'lossScalar': reduction != 'none'},
            'rules': [],
        }


# How many cases of each family a run draws (about 8,400 with torchvision; the PyTorch side takes
# ~10 s, the suite ~30 s). --cases scales them.
PLAN = [
    ('rows', 900, lambda g, k: g.rows(k)),
    ('ce logits', 1260, lambda g, k: g.ce(k, 'logits')),
    ('ce spatial', 360, lambda g, k: g.ce(k, 'spatial')),
    ('ce logProbs', 480, lambda g, k: g.ce(k, 'logProbs')),
    ('ce probs', 480, lambda g, k: g.ce(k, 'probs')),
    ('ce extras', 720, lambda g, k: g.ce(k, 'extras')),
    ('bce logits', 900, lambda g, k: g.bce(k, 'logits')),
    ('bce probs', 600, lambda g, k: g.bce(k, 'probs')),
    ('bce focal', 480, lambda g, k: g.bce(k, 'focal')),
    ('entropy', 600, lambda g, k: g.entropy(k)),
    ('kl', 1080, lambda g, k: g.kl(k)),
    ('js', 600, lambda g, k: g.js(k)),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seed', type=int, required=True)
    ap.add_argument('--out', required=True, help='path without extension: writes <out>.json and <out>.bin')
    ap.add_argument('--only', default=None, help='one family name prefix (rows, ce, bce, entropy, kl, js)')
    ap.add_argument('--cases', type=float, default=1.0, help='scale of the case counts')
    args = ap.parse_args()
    print(f'torch_truth: seed {args.seed} (torch {torch.__version__}, scipy {scipy.__version__}, '
          f'torchvision {torchvision.__version__ if torchvision else "missing"})', flush=True)
    start = time.time()
    blob = Blob()
    gen = Gen(args.seed, blob)
    cases, notes, counts = [], [], {}
    for family, count, make in PLAN:
        if args.only and not family.startswith(args.only):
            continue
        if family == 'bce focal' and sigmoid_focal_loss is None:
            notes.append('torchvision is missing (python3-torchvision): the binary focal cases '
                         '(torchvision.ops.sigmoid_focal_loss) are skipped')
            continue
        n = max(1, round(count * args.cases))
        for k in range(n):
            case = make(gen, k)
            case['id'] = len(cases)
            case['family'] = family
            cases.append(case)
        counts[family] = n
    for note in notes:
        print(f'torch_truth: {note}', flush=True)
    out = {
        'seed': args.seed,
        'versions': {'torch': torch.__version__, 'scipy': scipy.__version__,
                     'torchvision': torchvision.__version__ if torchvision else None, 'numpy': np.__version__},
        'rules': RULES, 'undocumented': UNDOCUMENTED, 'notes': notes, 'counts': counts, 'selfChecks': gen.self_checks, 'cases': cases,
    }
    with open(args.out + '.bin', 'wb') as f:
        for part in blob.parts:
            f.write(part)
    with open(args.out + '.json', 'w') as f:
        json.dump(out, f, allow_nan=False)
    print(f'torch_truth: {len(cases)} cases, {gen.self_checks} self-checks, {blob.size / 1e6:.1f} MB, '
          f'{time.time() - start:.1f} s', flush=True)


if __name__ == '__main__':
    try:
        main()
    except AssertionError as e:
        print(f'torch_truth: self-check failed: {e}', file=sys.stderr)
        sys.exit(1)
