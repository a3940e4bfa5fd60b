"""Facts about the two CMS public files that the importers and the generators share (spec/cms-datasets.md)."""

from __future__ import annotations

import re

# Medicare Physician & Other Practitioners - by Provider and Service: the current 28 columns, in order.
UTILIZATION_HEADER = (
    "Rndrng_NPI", "Rndrng_Prvdr_Last_Org_Name", "Rndrng_Prvdr_First_Name", "Rndrng_Prvdr_MI",
    "Rndrng_Prvdr_Crdntls", "Rndrng_Prvdr_Ent_Cd", "Rndrng_Prvdr_St1", "Rndrng_Prvdr_St2", "Rndrng_Prvdr_City",
    "Rndrng_Prvdr_State_Abrvtn", "Rndrng_Prvdr_State_FIPS", "Rndrng_Prvdr_Zip5", "Rndrng_Prvdr_RUCA",
    "Rndrng_Prvdr_RUCA_Desc", "Rndrng_Prvdr_Cntry", "Rndrng_Prvdr_Type", "Rndrng_Prvdr_Mdcr_Prtcptg_Ind",
    "HCPCS_Cd", "HCPCS_Desc", "HCPCS_Drug_Ind", "Place_Of_Srvc", "Tot_Benes", "Tot_Srvcs", "Tot_Bene_Day_Srvcs",
    "Avg_Sbmtd_Chrg", "Avg_Mdcr_Alowd_Amt", "Avg_Mdcr_Pymt_Amt", "Avg_Mdcr_Stdzd_Amt",
)
# Releases up to RY24 carried this column after the credentials (29 columns); it is optional.
UTILIZATION_GENDER = "Rndrng_Prvdr_Gndr"

# The CY2012-2018 "Physician and Other Supplier PUF" (tab-delimited, lower-case names), the columns we read.
UTILIZATION_LEGACY_HEADER = (
    "npi", "nppes_provider_last_org_name", "nppes_provider_first_name", "nppes_provider_mi",
    "nppes_credentials", "nppes_provider_gender", "nppes_entity_code", "nppes_provider_street1",
    "nppes_provider_street2", "nppes_provider_city", "nppes_provider_zip", "nppes_provider_state",
    "nppes_provider_country", "provider_type", "medicare_participation_indicator", "place_of_service",
    "hcpcs_code", "hcpcs_description", "hcpcs_drug_indicator", "line_srvc_cnt", "bene_unique_cnt",
    "bene_day_srvc_cnt", "average_Medicare_allowed_amt", "average_submitted_chrg_amt",
    "average_Medicare_payment_amt", "average_Medicare_standard_amt",
)

# What the importer reads: our name -> the column's name in each layout (current first).
UTILIZATION_COLUMNS: dict[str, tuple[str, ...]] = {
    "npi": ("Rndrng_NPI", "npi"),
    "code": ("HCPCS_Cd", "hcpcs_code"),
    "place": ("Place_Of_Srvc", "place_of_service"),
    "patients": ("Tot_Benes", "bene_unique_cnt"),
    "services": ("Tot_Srvcs", "line_srvc_cnt"),
}

# Doctors and Clinicians National Downloadable File: the current 31 columns, in order.
CLINICIANS_HEADER = (
    "NPI", "Ind_PAC_ID", "Ind_enrl_ID", "Provider Last Name", "Provider First Name", "Provider Middle Name", "suff",
    "gndr", "Cred", "Med_sch", "Grd_yr", "pri_spec", "sec_spec_1", "sec_spec_2", "sec_spec_3", "sec_spec_4",
    "sec_spec_all", "Telehlth", "Facility Name", "org_pac_id", "num_org_mem", "adr_ln_1", "adr_ln_2", "ln_2_sprs",
    "City/Town", "State", "ZIP Code", "Telephone Number", "ind_assgn", "grp_assgn", "adrs_id",
)
# The 2019-2022 layout: 40 columns, a space after every comma, no telehealth, five hospital affiliations.
CLINICIANS_2019_HEADER = (
    "NPI", "Ind_PAC_ID", "Ind_enrl_ID", "lst_nm", "frst_nm", "mid_nm", "suff", "gndr", "Cred", "Med_sch", "Grd_yr",
    "pri_spec", "sec_spec_1", "sec_spec_2", "sec_spec_3", "sec_spec_4", "sec_spec_all", "org_nm", "org_pac_id",
    "num_org_mem", "adr_ln_1", "adr_ln_2", "ln_2_sprs", "cty", "st", "zip", "phn_numbr",
    *(name for i in range(1, 6) for name in (f"hosp_afl_{i}", f"hosp_afl_lbn_{i}")),
    "ind_assgn", "grp_assgn", "adrs_id",
)

CLINICIAN_COLUMNS: dict[str, tuple[str, ...]] = {
    "npi": ("NPI",),
    "name": ("Facility Name", "org_nm"),
    "address_line1": ("adr_ln_1",),
    "address_line2": ("adr_ln_2",),
    "city": ("City/Town", "cty"),
    "state": ("State", "st"),
    "zip": ("ZIP Code", "zip"),
    "phone": ("Telephone Number", "phn_numbr"),
    "telehealth": ("Telehlth",),
    "assignment": ("ind_assgn",),
    "school": ("Med_sch",),
    "graduation_year": ("Grd_yr",),
    "specialty": ("pri_spec",),
}
CLINICIAN_OPTIONAL = frozenset({"telehealth", "address_line2", "school", "graduation_year"})

HCPCS_PATTERN = r"^[0-9A-Z]{5}$"

# Columns that tell which file a header belongs to, for a clear refusal of the wrong one.
_SIGNATURES: tuple[tuple[str, str, str], ...] = (
    ("ind_assgn", "the Doctors and Clinicians National Downloadable File", "fusioncare import-cms-clinicians"),
    ("hcpcs_cd", "the Medicare Physician & Other Practitioners by Provider and Service file",
     "fusioncare import-cms-utilization"),
    ("hcpcs_code", "the legacy Medicare Physician and Other Supplier file", "fusioncare import-cms-utilization"),
    ("entity type code", "an NPPES registry file", "fusioncare import-nppes"),
    ("rndrng_npi", "the Medicare Physician & Other Practitioners by Provider file, which has no procedure codes "
                   "(the by Provider and Service file has)", ""),
)


def identify(names: list[str]) -> tuple[str, str] | None:
    """(which CMS or NPPES file this header belongs to, the command that imports it) if we know it."""
    lowered = {n.lower() for n in names}
    for column, what, command in _SIGNATURES:
        if column in lowered:
            return what, command
    return None


def data_year_from_name(name: str) -> int | None:
    """The data year CMS puts in its file names: MUP_PHY_R25_P05_V20_D23_Prov_Svc.csv -> 2023;
    Medicare_Provider_Util_Payment_PUF_CY2013.txt -> 2013; None when the name says nothing."""
    match = re.search(r"_D(\d{2})_", name)
    if match:
        return 2000 + int(match.group(1))
    match = re.search(r"CY(\d{4})", name, re.IGNORECASE)
    return int(match.group(1)) if match else None
