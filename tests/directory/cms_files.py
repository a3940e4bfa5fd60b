"""Builders for hand-made CMS files: rows by column name, in the current or a legacy layout."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from fusioncare.directory import cms

# Our short names -> the current layout's columns (the rest are filled with plausible values).
_CURRENT = {"npi": "Rndrng_NPI", "code": "HCPCS_Cd", "place": "Place_Of_Srvc", "patients": "Tot_Benes",
            "services": "Tot_Srvcs", "last": "Rndrng_Prvdr_Last_Org_Name"}
_LEGACY = {"npi": "npi", "code": "hcpcs_code", "place": "place_of_service", "patients": "bene_unique_cnt",
           "services": "line_srvc_cnt", "last": "nppes_provider_last_org_name"}


def volume(npi: str, code: str = "64483", place: str = "O", patients: str = "212", services: str = "250",
           last: str = "SMITH") -> dict[str, str]:
    return {"npi": npi, "code": code, "place": place, "patients": patients, "services": services, "last": last}


def utilization_text(rows: Iterable[dict[str, str] | str], *, layout: str = "current", gender: bool = False) -> str:
    """The file as text: the current 28 columns (29 with the old gender column), or the legacy tab-separated
    lower-case layout. A str row is written as is."""
    if layout == "legacy":
        header, names, delimiter = list(cms.UTILIZATION_LEGACY_HEADER), _LEGACY, "\t"
    else:
        header, names, delimiter = list(cms.UTILIZATION_HEADER), _CURRENT, ","
        if gender:
            header.insert(header.index("Rndrng_Prvdr_Ent_Cd"), cms.UTILIZATION_GENDER)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        if isinstance(row, str):
            out.write(row + "\n")
            continue
        values = {names[k]: v for k, v in row.items()}
        defaults = {"Rndrng_Prvdr_RUCA_Desc": "Metropolitan area core: primary flow within an urbanized area of "
                                              "50,000 and greater", "HCPCS_Desc": "Injection, foramen, lumbar",
                    "Rndrng_Prvdr_Ent_Cd": "I", cms.UTILIZATION_GENDER: "F", "Rndrng_Prvdr_Zip5": "02108"}
        writer.writerow([values.get(c, defaults.get(c, "")) for c in header])
    return out.getvalue()


def write_utilization(path: Path, rows: Iterable[dict[str, str] | str], *, layout: str = "current",
                      gender: bool = False, encoding: str = "utf-8") -> Path:
    path.write_bytes(utilization_text(rows, layout=layout, gender=gender).encode(encoding))
    return path


def clinician(npi: str, *, group: str = "SPINE & PAIN ASSOCIATES, LLC", line1: str = "1 MAIN ST",
              city: str = "NEW YORK", state: str = "NY", zip_code: str = "100011234", phone: str = "2125550100",
              telehealth: str = "",
              assignment: str = "Y", specialty: str = "INTERVENTIONAL PAIN MANAGEMENT", school: str = "OTHER",
              graduated: str = "2001") -> dict[str, str]:
    """One row of the current Doctors and Clinicians layout, by column name."""
    return {"NPI": npi, "Facility Name": group, "adr_ln_1": line1, "City/Town": city, "State": state,
            "ZIP Code": zip_code, "Telephone Number": phone, "Telehlth": telehealth, "ind_assgn": assignment,
            "pri_spec": specialty, "Med_sch": school, "Grd_yr": graduated, "Cred": "MD"}


def write_clinicians(path: Path, rows: Iterable[dict[str, str]]) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(cms.CLINICIANS_HEADER)
    for row in rows:
        writer.writerow([row.get(c, "") for c in cms.CLINICIANS_HEADER])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path
