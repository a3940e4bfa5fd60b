"""The demo directory: every specialty near every demo metro, profiles filled, marked as demo, idempotent."""

from __future__ import annotations

from rich.console import Console
from sqlalchemy import func, select

from fusioncare.directory import service
from fusioncare.directory.demo import load
from fusioncare.directory.models import Provider
from fusioncare.directory.schemas import ProviderSearch
from fusioncare.directory.specialties import SEARCHABLE_CODES


def test_demo_load_is_idempotent_and_covers_every_specialty_near_new_york(db):
    quiet = Console(quiet=True)
    load(db=db, console=quiet)
    snapshot = sorted((p.npi, tuple(p.insurance_plans), p.accepting_new) for p in db.scalars(select(Provider)))
    load(db=db, console=quiet)
    db.expire_all()

    assert sorted((p.npi, tuple(p.insurance_plans), p.accepting_new) for p in db.scalars(select(Provider))) == snapshot
    assert db.scalar(select(func.count()).where(Provider.is_demo.is_(False))) == 0
    for code in SEARCHABLE_CODES:
        for near in ("10001", "90012", "60601"):
            result = service.search_providers(db=db, params=ProviderSearch(specialty=code, near=near,
                                                                           radius_miles=25))
            assert result.total >= 5, (code, near)
    filled = db.scalar(select(func.count()).where(Provider.accepting_new.is_not(None)))
    assert filled / len(snapshot) > 0.7
    confirmed = db.scalar(select(func.count()).where(Provider.profile_confirmed.is_(True)))
    assert 0 < confirmed < len(snapshot)


def test_demo_loads_medicare_figures_marked_as_demo_and_never_over_real_cms_data(db):
    from fusioncare.directory.cms_service import evidence_for, procedure_sums
    from fusioncare.directory.models import ClinicianFacts, ClinicianFile, ProcedureVolume
    from fusioncare.knowledge.loader import get_pack

    quiet = Console(quiet=True)
    load(db=db, console=quiet)
    volumes = db.scalar(select(func.count()).select_from(ProcedureVolume))
    assert volumes > 100
    assert db.scalar(select(func.count()).where(ProcedureVolume.is_demo.is_(False))) == 0
    assert db.scalar(select(func.count()).select_from(ClinicianFacts)) > 0
    assert db.get(ClinicianFile, 1).is_demo
    pain = service.search_providers(db=db, params=ProviderSearch(specialty="pain_medicine", near="10001"))
    npis = [h.provider.npi for h in pain.hits]
    sums = procedure_sums(db=db, npis=npis, treatments=["injection"], pack=get_pack())
    found = evidence_for(sums=sums, npis=set(npis), treatments=["injection"], pack=get_pack())
    assert found and all(e.is_demo and e.year == 2024 for e in found.values())

    load(db=db, console=quiet)  # idempotent
    assert db.scalar(select(func.count()).select_from(ProcedureVolume)) == volumes

    db.execute(ProcedureVolume.__table__.update().values(is_demo=False))  # as if real figures were imported
    db.commit()
    load(db=db, console=quiet)
    assert db.scalar(select(func.count()).where(ProcedureVolume.is_demo.is_(True))) == 0
