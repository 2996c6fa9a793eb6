"""The one way every exercise checker reports its verdict."""


def report(ok, what, hint=""):
    """Print ✓/✗ for `what` (with `hint` on failure); return `ok`."""
    if ok:
        print(f"✓ {what}")
    else:
        print(f"✗ {what}" + (f"\n  hint: {hint}" if hint else ""))
    return bool(ok)
