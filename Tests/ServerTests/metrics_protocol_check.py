"""Parses a Prometheus exposition with prometheus_client's text parser and prints it as JSON.

Used by ModelServerProtocolTests.swift: a real parser, so an exposition the inference gateway's
endpoint picker (which uses the Go equivalent, prometheus/common/expfmt) could not read fails here.
Usage: python metrics_protocol_check.py METRICS_FILE
Prints [{"name", "type", "samples": [{"name", "labels", "value"}]}]; exits 1 if the text does not parse.
"""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    try:
        families = [
            {
                "name": family.name,
                "type": family.type,
                "samples": [{"name": s.name, "labels": dict(s.labels), "value": s.value} for s in family.samples],
            }
            for family in text_string_to_metric_families(text)
        ]
    except Exception as error:  # the parser raises ValueError and others on malformed lines
        print(f"cannot parse the exposition: {error!r}", file=sys.stderr)
        return 1
    json.dump(families, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
