"""Vocabularies of the provider-managed fields: insurance plans and languages (ids are API values)."""

from __future__ import annotations

INSURANCE_PLANS: dict[str, str] = {
    "aetna": "Aetna",
    "anthem_bcbs": "Anthem Blue Cross Blue Shield",
    "cigna": "Cigna",
    "humana": "Humana",
    "kaiser_permanente": "Kaiser Permanente",
    "medicaid": "Medicaid",
    "medicare": "Medicare",
    "oscar": "Oscar Health",
    "tricare": "TRICARE",
    "unitedhealthcare": "UnitedHealthcare",
}

# ISO 639-1 codes.
LANGUAGES: dict[str, str] = {
    "ar": "Arabic", "en": "English", "es": "Spanish", "fr": "French", "hi": "Hindi", "ht": "Haitian Creole",
    "ko": "Korean", "pl": "Polish", "pt": "Portuguese", "ru": "Russian", "tl": "Tagalog", "vi": "Vietnamese",
    "zh": "Chinese",
}
