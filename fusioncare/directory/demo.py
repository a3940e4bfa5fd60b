"""Demo directory: generated providers around several metros (New York 10001 among them), profiles filled in."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncare.directory.catalog import INSURANCE_PLANS
from fusioncare.directory.cms_generator import generate_clinicians, generate_utilization, seeds_from_directory
from fusioncare.directory.cms_import import import_clinicians, import_utilization
from fusioncare.directory.generator import generate_file
from fusioncare.directory.importer import import_nppes
from fusioncare.directory.models import ClinicianFile, ProcedureVolume, Provider

DEMO_SEED = 20261125
PROVIDERS_PER_METRO_AND_SPECIALTY = 8
DEMO_FILE_NAME = "fusioncare-demo-npidata.csv"
# Demo-only: which treatments a demo provider of each specialty says it offers.
DEMO_SERVICES: dict[str, tuple[str, ...]] = {
    "pain_medicine": ("medication", "injection", "ablation", "spinal_cord_stimulation", "tens"),
    "spine_surgeon": ("revision_surgery", "injection", "medication"),
    "physiatrist": ("physical_therapy", "injection", "medication", "tens", "activity_modification"),
    "physical_therapist": ("physical_therapy", "tens", "activity_modification", "weight_management"),
    "chiropractor": ("chiropractic", "activity_modification", "tens"),
    "pain_psychologist": ("psychological_therapy", "support_group"),
    "neurologist": ("medication",),
    "primary_care": ("medication", "weight_management", "activity_modification"),
    "emergency_department": ("medication",),
}
LANGUAGE_MIX = (("en",), ("en",), ("en",), ("en", "es"), ("en", "es"), ("en", "zh"), ("en", "ru"), ("en", "ko"),
                ("en", "vi"), ("en", "ar"), ("en", "fr", "ht"), ("en", "hi"), ("en", "pl"), ("en", "pt"))


def _fill_profile(provider: Provider) -> None:
    """Deterministic per NPI, so loading twice gives the same profiles."""
    rng = random.Random(int(provider.npi))
    if provider.entity_type == 2 and "general_acute_care_hospital" in provider.specialties:
        provider.insurance_plans = sorted(INSURANCE_PLANS)
        provider.languages = ["en", "es"]
        provider.accepting_new = True
        provider.profile_confirmed = rng.random() < 0.5
        return
    if rng.random() < 0.15:
        return  # some demo providers never filled in their profile, as in real life
    provider.insurance_plans = sorted(rng.sample(sorted(INSURANCE_PLANS), rng.randint(2, 6)))
    provider.languages = list(rng.choice(LANGUAGE_MIX))
    provider.telehealth = rng.random() < 0.45
    provider.accepting_new = rng.random() < 0.75
    offered = {s for code in provider.specialties for s in DEMO_SERVICES.get(code, ())}
    provider.services = sorted(s for s in offered if rng.random() < 0.8) or sorted(offered)
    provider.profile_confirmed = rng.random() < 0.6


def load(*, db: Session, console: Console) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / DEMO_FILE_NAME
        generate_file(path, rows=PROVIDERS_PER_METRO_AND_SPECIALTY, seed=DEMO_SEED, profile="demo")
        report = import_nppes(db=db, path=path, is_demo=True)
    for provider in db.scalars(select(Provider).where(Provider.is_demo.is_(True))):
        _fill_profile(provider)
    db.commit()
    console.print(f"Demo directory: {report.imported} new and {report.updated} updated providers "
                  f"({report.rows} generated rows), all marked as demo data.")
    _load_cms_figures(db=db, console=console)


DEMO_DATA_YEAR = 2024


def _load_cms_figures(*, db: Session, console: Console) -> None:
    """Generated Medicare procedure volumes and Doctors and Clinicians rows for the demo practitioners, imported
    through the real importers and marked as demo data; never over real CMS data."""
    real_volumes = db.scalar(select(ProcedureVolume.npi).where(ProcedureVolume.is_demo.is_(False),
                                                               ProcedureVolume.data_year == DEMO_DATA_YEAR).limit(1))
    real_facts = db.scalar(select(ClinicianFile.id).where(ClinicianFile.is_demo.is_(False)))
    if real_volumes is not None or real_facts is not None:
        console.print("Demo Medicare figures skipped: this database holds real CMS data.")
        return
    seeds = seeds_from_directory(db.scalars(select(Provider).where(Provider.is_demo.is_(True),
                                                                 Provider.is_active.is_(True))
                                            .order_by(Provider.npi)))
    with tempfile.TemporaryDirectory() as tmp:
        volumes = Path(tmp) / f"fusioncare-demo_D{DEMO_DATA_YEAR % 100:02d}_Prov_Svc.csv"
        clinicians = Path(tmp) / "fusioncare-demo-DAC_NationalDownloadableFile.csv"
        generate_utilization(volumes, seed=DEMO_SEED, clinicians=seeds)
        generate_clinicians(clinicians, seed=DEMO_SEED, clinicians=seeds)
        used = import_utilization(db=db, path=volumes, is_demo=True)
        listed = import_clinicians(db=db, path=clinicians, year=DEMO_DATA_YEAR + 2, is_demo=True)
    console.print(f"Demo Medicare figures: {used.kept} procedure rows for {used.matched_providers} providers and "
                  f"{listed.kept} practices, all marked as demo data.")
