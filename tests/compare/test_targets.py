"""Remote targets from --target arguments and from the deploy outputs directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compare.targets import TargetError, merge, parse_target, read_outputs


def test_parse_target() -> None:
    target = parse_target("lambda=https://abc.execute-api.us-east-1.amazonaws.com/api/")
    assert target.name == "lambda" and target.url == "https://abc.execute-api.us-east-1.amazonaws.com/api"
    for bad in ("lambda", "=http://x", "ec2=ftp://x", "fargate=example.com"):
        with pytest.raises(TargetError):
            parse_target(bad)


def test_read_outputs_is_tolerant(tmp_path: Path) -> None:
    (tmp_path / "lambda.json").write_text(
        json.dumps(
            {
                "runtime": "lambda",
                "url": "https://l.example/api/",
                "function_name": "cafe-fn",
                "region": "ap-northeast-2",
            }
        )
    )
    (tmp_path / "fargate.json").write_text(json.dumps({"name": "fargate", "endpoint": "http://alb.example"}))
    (tmp_path / "ec2.json").write_text(json.dumps({"url": "http://1.2.3.4:8080"}))  # name from the file
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "nourl.json").write_text(json.dumps({"runtime": "x"}))
    (tmp_path / "list.json").write_text("[1, 2]")
    targets, notes = read_outputs(tmp_path)
    by_name = {t.name: t for t in targets}
    assert set(by_name) == {"lambda", "fargate", "ec2"}
    assert by_name["lambda"].url == "https://l.example/api"
    assert (
        by_name["lambda"].log_group == "/aws/lambda/cafe-fn" and by_name["lambda"].region == "ap-northeast-2"
    )
    assert by_name["ec2"].url == "http://1.2.3.4:8080"
    assert len(notes) == 3
    assert read_outputs(tmp_path / "missing") == ([], [])


def test_command_line_wins_over_files(tmp_path: Path) -> None:
    (tmp_path / "ec2.json").write_text(json.dumps({"runtime": "ec2", "url": "http://old", "log_group": "g"}))
    targets = merge(
        read_outputs(tmp_path)[0], [parse_target("ec2=http://new"), parse_target("lambda=http://l")]
    )
    by_name = {t.name: t for t in targets}
    assert by_name["ec2"].url == "http://new" and by_name["ec2"].log_group == "g"
    assert by_name["lambda"].url == "http://l"


def test_only_deployed_endpoints_are_labelled_as_aws() -> None:
    from compare.results import AWS_LABEL, LOCAL_ENDPOINT_LABEL, MIXED_LABEL
    from compare.targets import remote_label, remote_source

    assert remote_label("https://abc.execute-api.us-east-1.amazonaws.com/api") == AWS_LABEL
    assert remote_label("http://54.1.2.3:8080") == AWS_LABEL
    for local in ("http://127.0.0.1:8001", "http://localhost:8002", "http://[::1]:8003"):
        assert remote_label(local) == LOCAL_ENDPOINT_LABEL
    targets = [parse_target("a=http://127.0.0.1:1"), parse_target("b=https://x.amazonaws.com")]
    assert remote_source(targets) == MIXED_LABEL
    assert remote_source(targets[1:]) == AWS_LABEL
