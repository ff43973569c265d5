"""Transfer check: perplexity-based domain distance and the recommended number of pairs."""

import math

import pytest

from builder.errors import ProjectError
from builder.project import Project
from builder.records import Chunk
from builder.transfer import distance_report, perplexity, recommended_pairs, transfer_check


def test_recommendation_grows_with_distance_and_is_bounded():
    assert recommended_pairs(0.8) == recommended_pairs(1.0) == 300
    assert recommended_pairs(2.0) == 850 and recommended_pairs(4.0) == 2400
    assert recommended_pairs(100.0) == 5000
    report = distance_report(30.0, 15.0, have_pairs=120)
    assert report["ratio"] == 2.0 and report["distance"] == round(math.log(2), 3)
    assert report["label"] == "moderate" and "aim for about 850 pairs (you have 120)" in report["advice"]
    assert distance_report(10.0, 15.0, 0)["distance"] == 0.0


def test_transfer_check_on_a_project(tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    project = Project.create(tmp_path / "p")
    with pytest.raises(ProjectError, match="no chunks"):
        transfer_check(project, model=model, tokenizer=tokenizer)
    project.save_chunks([Chunk(id="c", source_id="s", heading_path=[], tokens=0,
                               text="members pay the day pass fee at the station dock " * 20)])
    report = transfer_check(project, model=model, tokenizer=tokenizer, max_tokens=256, window_tokens=64)
    assert report["domain_tokens"] == report["general_tokens"] > 100
    ppl, n = perplexity(model, tokenizer, [project.chunks()[0].text], 64, 256)
    assert n == report["domain_tokens"] and math.isclose(ppl, report["ppl_domain"], rel_tol=1e-3)
    assert report["recommended_pairs"] == recommended_pairs(report["ratio"])
