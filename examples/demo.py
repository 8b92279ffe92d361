"""coderkit demo: derive exact, Beam-compatible coders and see what they do with your values."""

from __future__ import annotations

import coders


def main() -> None:
    pair = coders.TupleCoder(coders.VarIntCoder(), coders.StrUtf8Coder())
    data = pair.encode((163, "héllo"))
    print(f"{pair!r}.encode((163, 'héllo')) = {data.hex(' ')}")
    print(f"decoded back: {pair.decode(data)!r}")

    scores = coders.MapCoder(coders.StrUtf8Coder(), coders.FloatCoder())
    try:
        scores.verify_deterministic()
    except coders.NonDeterministicCoderError as e:
        print(f"\nverify_deterministic() says:\n{e}")
    print(f"\nas_deterministic_coder() -> {scores.as_deterministic_coder()!r}")

    try:
        coders.VarIntCoder().encode(1.5)
    except coders.EncodeError as e:
        print(f"\nVarIntCoder().encode(1.5) -> EncodeError: {e}")


if __name__ == "__main__":
    main()
