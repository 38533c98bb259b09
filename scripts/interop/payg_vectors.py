"""Writes OpenPAYGO Token test vectors made by the `openpaygo` package (the peer we did not
write) as JSON lines: key, starting code, divider, restricted, kind, value, last count, and the
token and new count the library produced. Used by Tests/PAYGTests (checked-in copy) and by the
interop stage of scripts/test (fresh copy, compared with the checked-in one).

Usage: python payg_vectors.py OUT.jsonl
"""
import json
import random
import sys

from openpaygo import OpenPAYGOTokenEncoder, TokenType

KINDS = {"add": TokenType.ADD_TIME, "set": TokenType.SET_TIME,
         "disable": TokenType.DISABLE_PAYG, "sync": TokenType.COUNTER_SYNC}


def main(out):
    rng = random.Random(20261125)  # made-up test keys only, reproducible
    rows = []
    for device in range(12):
        key = "".join(rng.choice("0123456789abcdef") for _ in range(32))
        starting_code = rng.randint(1, 999_999_999)
        divider = rng.choice([1, 1, 2, 4, 16])
        restricted = device % 3 == 2
        count = 1
        for _ in range(8):
            kind = rng.choice(["add", "add", "add", "set", "disable", "sync"])
            value = rng.choice([0, 1, 2, 5, 30, 995 // divider]) if kind in ("add", "set") else None
            new_count, token = OpenPAYGOTokenEncoder.generate_token(
                secret_key=key, count=count, value=value, token_type=KINDS[kind],
                starting_code=starting_code, value_divider=divider,
                restricted_digit_set=restricted, extended_token=False)
            rows.append({"key": key, "starting_code": starting_code, "divider": divider,
                         "restricted": restricted, "kind": kind, "value": value,
                         "last_count": count, "count": new_count, "token": str(token)})
            count = new_count
    with open(out, "w") as f:
        for row in rows:
            f.write(json.dumps(row, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
