"""Every figure the README and docs/ quote is traced to results/ and current (pysampler docs
--check); the reference grammar resolves and refuses as documented."""

import json

import pytest

from pysampler.experiments import figures


def test_the_readme_and_docs_quote_current_figures():
    """The check `make test` runs: a stale or unsourced figure fails here, named with its file,
    line, text, source and the value it should read (`pysampler docs` rewrites it)."""
    stale = figures.check()
    assert not stale, "stale figures (run `pysampler docs`):\n" + "\n".join(map(str, stale))


@pytest.fixture
def results(tmp_path, monkeypatch):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "runs.csv").write_text("set,sampler,lam,tv\nV16,hw,2.0,0.0045\nV16,hw,2.5,0.0052\n"
                                     "V32,hw,2.0,0.0071\nV32,gibbs,2.0,0.0003\n")
    (folder / "bench.json").write_text(json.dumps({"batch": {"tree V=64 B=4096":
                                                             {"tokens_per_s": 1541370.13}}}))
    (folder / "report.md").write_text("# Report\n\n## Best lambda (exact)\n\n| sampler | V | tv |\n"
                                      "|---|---|---|\n| hw | 16 | 0.0045 |\n\nprose\n\n"
                                      "## Counts\n\n### per case\n\n| case | n |\n|---|---|\n"
                                      "| a, F = 8 | 1,200 |\n| b, F = 7 | 34 |\n\n"
                                      "## After\n\n| case | n |\n|---|---|\n| c | 5 |\n")
    monkeypatch.setattr(figures, "RESULTS", folder)
    return folder


@pytest.mark.parametrize("ref,text", [
    ("runs.csv[set=V16; lam=2.0].tv | .4f", "0.0045"),
    ("runs.csv[sampler=hw].tv | max | .4f", "0.0071"),
    ("runs.csv[sampler=hw; lam<=2.0].tv | count | d", "2"),
    ("runs.csv[set!=V16].tv | mean | .2e", "3.70e-03"),
    ("runs.csv[set^=V3].tv | min | .4f", "0.0003"),
    ("runs.csv[set!^=V1].tv | count | d", "2"),
    ("bench.json/batch/tree V=64 B=4096/tokens_per_s | /1e6 .2f", "1.54"),
    ("bench.json/batch/tree V=64 B=4096/tokens_per_s | ,.0f", "1,541,370"),
    ("runs.csv[set=V32;sampler=gibbs].tv | *100 .2f", "0.03"),
    ("runs.csv[set=V16;lam=2.5].tv | *1000 -5 +.1f", "+0.2"),
    ("py:pysampler.contract.config.MAX_N_PBITS | ,d", "65,536"),
    ("report.md#Best lambda (exact)[sampler=hw;V=16].tv | .4f", "0.0045"),
    ("report.md#Best lambda[].tv | count | d", "1"),
    # a heading's section holds its sub-headings' tables, up to the next heading of its level
    ("report.md#Counts[].n | sum | ,d", "1,234"),
    ("report.md#Counts[case$=F = 8].n | d", "1200"),
    ("report.md#Counts[case!$=F = 8].n | ,d", "34"),
    ("report.md#Counts[case=a, F = 8].n | /1e3 .1f", "1.2"),
])
def test_references_resolve(results, ref, text):
    assert figures.resolve(ref) == text


@pytest.mark.parametrize("ref,needle", [
    ("runs.csv[set=V16].tv | .4f", "selects 2 values"),
    ("runs.csv[set=V99].tv | max | .4f", "selects nothing"),
    ("runs.csv[colour=red].tv | .4f", "no column 'colour'"),
    ("runs.csv[set=V16;lam=2.0].kl | .4f", "no column 'kl'"),
    ("missing.csv[a=1].tv | .4f", "results/missing.csv does not exist"),
    ("../secrets.csv[a=1].tv | .4f", "not a file under results/"),
    ("bench.json/batch/nosuch | .2f", "no key 'nosuch'"),
    ("runs.csv[set=V16].tv | max", "a reference is"),
    ("runs.csv[set=V16].tv | mode | .3f", "aggregate 'mode'"),
    ("runs.csv[set<V16].tv | max | .3f", "not numbers"),
])
def test_bad_references_are_refused_naming_why(results, ref, needle):
    with pytest.raises(ValueError, match=needle):
        figures.resolve(ref)


def test_check_names_stale_figures_and_rewrite_brings_them_up_to_date(results, tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("TV 0.0045<!--= runs.csv[set=V16;lam=2.0].tv | .4f --> and worst "
                   "0.0060<!--= runs.csv[sampler=hw].tv | max | .4f -->.\n\n"
                   "<!-- table: report.md#Best lambda | sampler, tv -->\n| old |\n<!-- /table -->\n")
    stale = figures.check([doc])
    assert [(s.line, s.found, s.expected) for s in stale] == [
        (1, "0.0060", "0.0071"), (3, "| old |", "| sampler | tv |\n| --- | --- |\n| hw | 0.0045 |")]
    assert "doc.md:1: '0.0060' should read '0.0071' (from runs.csv[sampler=hw].tv | max" \
        in str(stale[0])
    assert figures.rewrite([doc]) == [doc]
    assert figures.check([doc]) == [] and figures.rewrite([doc]) == []
    assert "worst 0.0071<!--=" in doc.read_text()
    doc.write_text("lost 1.5<!--= runs.csv[set=V77].tv | max | .1f -->\n")
    (unresolved,) = figures.check([doc])
    assert unresolved.expected.startswith("<unresolved: ") and "selects nothing" in unresolved.expected
    with pytest.raises(ValueError, match="doc.md:1: cannot resolve"):
        figures.rewrite([doc])


def test_a_quote_holds_the_reports_paragraph(results, tmp_path):
    (results / "finding.md").write_text("# Study\n\nCommand: x.\n\n## Finding\n\nThe default "
                                        "passes (TV 0.0059).\nSecond line.\n\nNext paragraph.\n")
    doc = tmp_path / "doc.md"
    doc.write_text("<!-- quote: finding.md#Finding -->\nold words\n<!-- /quote -->\n"
                   "<!-- quote: finding.md#Study -->\n\n<!-- /quote -->\n")
    assert figures.rewrite([doc]) == [doc]
    assert "The default passes (TV 0.0059).\nSecond line.\n<!-- /quote -->" in doc.read_text()
    assert "Study -->\nCommand: x.\n<!-- /quote -->" in doc.read_text()
    (results / "finding.md").write_text("# Study\n\n## Finding\n\n| a |\n")
    assert "no paragraph" in figures.check([doc])[0].expected
