#!/usr/bin/env python3
"""make bench-gpu, part 2: the same filters written with PyTorch and CuPy, for
comparison with gpu_bench's kernel table (device time, RGB uint8 in and out,
no transfers, 1080p and 4K).

The equivalents are the natural ones for each library (float32 math, their
own border rules), not byte-exact ports of docs/filters.md: the point is the
speed a Python user would get. Prints a Markdown table; says why when
neither library can be imported (exit 0: the comparison is optional).
"""
import sys

SIZES = [(1920, 1080), (3840, 2160)]
ITERS = 50


def bench_torch():
    import torch
    import torch.nn.functional as F

    if not torch.cuda.is_available():
        return None, "torch is installed but sees no CUDA device"
    dev = torch.device("cuda")
    rows = []

    def timed(fn):
        fn()  # warm up
        torch.cuda.synchronize()
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        for _ in range(ITERS):
            fn()
        b.record()
        torch.cuda.synchronize()
        return a.elapsed_time(b) / ITERS

    def gauss(sigma):
        r = int(-(-3 * sigma // 1))
        x = torch.arange(-r, r + 1, dtype=torch.float32, device=dev)
        k = torch.exp(-(x * x) / (2 * sigma * sigma))
        return k / k.sum()

    for w, h in SIZES:
        img = torch.randint(0, 256, (h, w, 3), dtype=torch.uint8, device=dev)
        chw = img.permute(2, 0, 1).unsqueeze(0)  # NCHW view
        wts = torch.tensor([0.299, 0.587, 0.114], device=dev)
        k2 = gauss(2.0)
        kv = k2.view(1, 1, -1, 1).repeat(3, 1, 1, 1)
        kh = k2.view(1, 1, 1, -1).repeat(3, 1, 1, 1)
        sob = torch.tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=torch.float32, device=dev)

        def grayscale():
            return (img.float() @ wts).round().clamp(0, 255).to(torch.uint8)

        def invert():
            return 255 - img

        def blur():
            f = chw.float()
            r = kv.shape[2] // 2
            f = F.conv2d(F.pad(f, (0, 0, r, r), mode="reflect"), kv, groups=3)
            f = F.conv2d(F.pad(f, (r, r, 0, 0), mode="reflect"), kh, groups=3)
            return f.round().clamp(0, 255).to(torch.uint8)

        def box():
            f = F.pad(chw.float(), (2, 2, 2, 2), mode="reflect")
            return F.avg_pool2d(f, 5, stride=1).round().to(torch.uint8)

        def edge():
            y = (img.float() @ wts).view(1, 1, h, w)
            y = F.pad(y, (1, 1, 1, 1), mode="replicate")
            gx = F.conv2d(y, sob.view(1, 1, 3, 3))
            gy = F.conv2d(y, sob.t().contiguous().view(1, 1, 3, 3))
            return torch.sqrt(gx * gx + gy * gy).round().clamp(0, 255).to(torch.uint8)

        def resize():
            return F.interpolate(chw.float(), size=(h // 2, w // 2), mode="bilinear",
                                 align_corners=False).round().to(torch.uint8)

        for name, fn in [("grayscale", grayscale), ("invert", invert), ("blur sigma 2", blur),
                         ("box_blur r 2", box), ("edge", edge), ("resize 50% bilinear", resize)]:
            rows.append(("torch " + torch.__version__, name, f"{w}x{h}", timed(fn)))
    return rows, None


def bench_cupy():
    import cupy as cp
    from cupyx.scipy import ndimage

    rows = []

    def timed(fn):
        fn()
        cp.cuda.Device().synchronize()
        a, b = cp.cuda.Event(), cp.cuda.Event()
        a.record()
        for _ in range(ITERS):
            fn()
        b.record()
        b.synchronize()
        return cp.cuda.get_elapsed_time(a, b) / ITERS

    for w, h in SIZES:
        img = cp.random.randint(0, 256, (h, w, 3), dtype=cp.uint8)
        f = img.astype(cp.float32)
        rows.append(("cupy " + cp.__version__, "blur sigma 2", f"{w}x{h}",
                     timed(lambda: ndimage.gaussian_filter(f, (2, 2, 0), mode="mirror"))))
        rows.append(("cupy " + cp.__version__, "box_blur r 2", f"{w}x{h}",
                     timed(lambda: ndimage.uniform_filter(f, (5, 5, 1), mode="mirror"))))
        rows.append(("cupy " + cp.__version__, "resize 50% bilinear", f"{w}x{h}",
                     timed(lambda: ndimage.zoom(f, (0.5, 0.5, 1), order=1))))
    return rows, None


def main():
    print("### PyTorch / CuPy equivalents (device time, RGB uint8, no transfers)\n")
    rows, why = [], []
    for bench in (bench_torch, bench_cupy):
        try:
            r, reason = bench()
        except ImportError as e:
            why.append(str(e))
            continue
        except Exception as e:  # a broken install should not hide the rest
            why.append(f"{bench.__name__}: {e}")
            continue
        if r is None:
            why.append(reason)
        else:
            rows += r
    if not rows:
        print("skipped: " + "; ".join(why) + " (pip install torch or cupy-cuda13x to compare)")
        return 0
    print("| library | filter | image | ms |")
    print("|---|---|---|---|")
    for lib, name, size, ms in rows:
        print(f"| {lib} | {name} | {size} | {ms:.3f} |")
    if why:
        print("\n(" + "; ".join(why) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
