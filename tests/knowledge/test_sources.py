"""Every source is a specific document with an identifier fit for its kind, and nothing cites the old
placeholder ids ("Peer-reviewed literature (e.g. ...)") any more."""

from __future__ import annotations

import re

import pytest
import yaml
from pydantic import ValidationError

from fusioncare.knowledge.articles import ARTICLES_DIR, load_library
from fusioncare.knowledge.loader import DEFAULT_PACK_DIR, load_pack
from fusioncare.knowledge.schemas import Source

DOI = re.compile(r"^10\.\d{4,9}/\S+$")

# The ids the lead engineer's rules cite (issue 12); they must all exist.
RULE_SOURCE_IDS = {
    "nice_ng59", "nice_cks_sciatica", "girft_ces", "nhs_cauda_equina", "nhs_sciatica", "nice_ng234", "nice_ng51",
    "nice_ng125", "nice_ng158", "nice_ng89", "darouiche_2006_epidural_abscess", "glotzbecker_2010_epidural_hematoma",
    "gautschi_2011_pedicle_screws", "sagi_2002_airway", "fehlings_2017_dcm", "durotomy_csf_leak",
    "sasso_2003_retrograde_ejaculation", "hashimoto_2019_asd", "raizman_2009_pseudarthrosis", "christelis_2021_psps",
    "traeger_2023_scs_cochrane", "nice_ng193", "nice_ng215", "nice_ta159", "nass_2014_disc_herniation",
    "nass_2013_stenosis", "nhs_suicide_crisis", "nsaid_fusion", "inamasu_2006_vascular_injury", "nice_ng41",
    "nhs_morphine",
}
# The placeholders and misfits of the first pack: gone from sources.yaml, so nothing can cite them.
LEGACY_IDS = {"nice_ng12", "fbss_reviews", "asd_reviews", "pseudarthrosis_reviews", "post_fusion_recovery",
              "nass_guidelines"}


def raw_sources() -> list[dict]:
    return yaml.safe_load((DEFAULT_PACK_DIR / "sources.yaml").read_text(encoding="utf-8"))["sources"]


def test_every_source_has_an_identifier_fit_for_its_kind():
    for source in load_pack().sources.values():
        if source.kind == "guideline":
            assert source.identifier and source.url and source.year, source.id
        elif source.kind == "article":
            assert source.authors and source.journal and source.year, source.id
            assert source.doi or source.pmid or (source.volume and source.pages), source.id
        else:
            assert source.url, source.id


def test_every_doi_looks_like_a_doi():
    dois = [s["doi"] for s in raw_sources() if "doi" in s]
    assert len(dois) >= 14
    for doi in dois:
        assert DOI.match(str(doi)), doi


def test_the_ids_the_rules_cite_all_exist():
    assert RULE_SOURCE_IDS <= set(load_pack().sources)


def test_the_placeholder_ids_are_gone():
    ids = {s["id"] for s in raw_sources()}
    assert not ids & LEGACY_IDS, sorted(ids & LEGACY_IDS)


def test_everything_cites_known_specific_sources_and_every_source_is_cited():
    pack = load_pack()
    cited = {c.source for c in pack.contributors} | {s.source for s in pack.strategies}
    cited |= {code for t in pack.treatments for code in t.sources}
    cited |= {code for t in pack.treatments for limit in t.not_offered_when for code in limit.sources}
    cited |= {code for rule in pack.rules for code in rule.sources}
    cited |= {code for sign in pack.warning_signs for code in sign.sources}
    cited |= {s.id for a in load_library().articles for s in a.sources}
    cited |= {code for e in pack.procedure_evidence for c in e.codes for code in c.sources}
    cited |= {code for d in pack.medicare_datasets.values() for code in d.sources}
    assert cited <= set(pack.sources)
    assert set(pack.sources) - cited == set()


def test_cancer_with_back_pain_is_not_cited_to_ng12_and_ng193_is_not_cited_for_treating_pain():
    pack = load_pack()
    assert pack.contributor_by_code["serious_pathology"].source == "nice_ng234"
    treating = {code for t in pack.treatments if t.code.value != "support_group" for code in t.sources}
    assert "nice_ng193" not in treating


@pytest.mark.parametrize(("fields", "problem"), [
    ({"kind": "guideline", "url": "https://example.org/g"}, "needs its number"),
    ({"kind": "guideline", "identifier": "NG1"}, "needs its number"),
    ({"kind": "article", "authors": "Doe J", "journal": "J"}, "needs a DOI"),
    ({"kind": "article", "journal": "J", "doi": "10.1000/x"}, "needs its authors"),
    ({"kind": "web_page"}, "needs its url"),
])
def test_a_source_without_a_fitting_identifier_is_refused(fields, problem):
    with pytest.raises(ValidationError, match=problem):
        Source.model_validate({"id": "x", "title": "A title", "publisher": "P", "year": 2020, **fields})


def test_a_doi_that_does_not_look_like_a_doi_is_refused():
    with pytest.raises(ValidationError, match="doi"):
        Source.model_validate({"id": "x", "kind": "article", "title": "T", "publisher": "P", "year": 2020,
                               "authors": "Doe J", "journal": "J", "doi": "doi:10.1000/x"})


def test_articles_dir_exists():
    assert ARTICLES_DIR.is_dir()
