import type { HelperName } from './layers.js';

/**
 * The Python of the small classes an exported file defines where torch.nn has no module of the same
 * function and parameter names; a file holds only those its net uses.
 */
export const HELPERS: Readonly<Record<HelperName, string>> = {
  Group: `class Group(nn.Module):
    """Named layers kept under one name (a residual block, an inception module); forward calls them."""

    def __init__(self, **layers):
        super().__init__()
        for name, layer in layers.items():
            self.add_module(name, layer)`,
  FlatLinear: `class FlatLinear(nn.Linear):
    """nn.Linear on a volume, flattened in (C, H, W) order first, as convstack's FC reads one."""

    def forward(self, x):
        return super().forward(torch.flatten(x, 1))`,
  PaddedConv2d: `class PaddedConv2d(nn.Conv2d):
    """nn.Conv2d after uneven zero padding \`pad\` = (left, right, top, bottom): a CONV(ceil), whose
    last, partial window reads zeros past the input (torch's Conv2d has no ceil_mode)."""

    def __init__(self, *args, pad, **kwargs):
        super().__init__(*args, **kwargs)
        self.pad = pad

    def forward(self, x):
        return super().forward(F.pad(x, self.pad))`,
  Affine: `class Affine(nn.Module):
    """AFFINE: a fixed per-channel x * scale + shift; scale and shift are buffers, not trained."""

    def __init__(self, shape, scale=None, shift=None):
        super().__init__()
        # Values written in the notation are not in the state_dict (persistent=False), as in convstack.
        written = scale is not None
        self.register_buffer('scale', torch.as_tensor(scale) if written else torch.ones(shape), persistent=not written)
        self.register_buffer('shift', torch.as_tensor(shift) if written else torch.zeros(shape), persistent=not written)

    def forward(self, x):
        return x * self.scale + self.shift`,
};
