"""Reading assessment requests from JSON text (one object or an array) and writing results, for the CLI."""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter, ValidationError

from fusioncare.errors import InvalidInput
from fusioncare.triage.schemas import AssessmentRequest, AssessmentResult
from fusioncare.validation import FieldProblem, problems, problems_from

_MANY_REQUESTS = TypeAdapter(list[AssessmentRequest])
_MANY_RESULTS = TypeAdapter(list[AssessmentResult])


class BadAssessmentInput(InvalidInput):
    """Assessment input that is not valid JSON or breaks the contract; ``problems`` name each field."""

    code = "bad_assessment_input"

    def __init__(self, problems: list[FieldProblem], *, index: int | None = None) -> None:
        self.problems = problems
        self.index = index
        where = f"element {index}: " if index is not None else ""
        super().__init__(problems[0].field if problems else "", "; ".join(p.message for p in problems))
        self.message = where + "; ".join(str(p) for p in problems)


def _decode(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadAssessmentInput(
            [
                FieldProblem(
                    field="",
                    type="json_invalid",
                    loc=(),
                    message=f"the input is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
                )
            ]
        ) from None


def parse_requests(text: str) -> AssessmentRequest | list[AssessmentRequest]:
    """One request for a JSON object, a list for a JSON array (batch); BadAssessmentInput otherwise.

    For a batch, the error names the first bad element's index and its fields.
    """
    data = _decode(text)
    if isinstance(data, list):
        try:
            return _MANY_REQUESTS.validate_python(data)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            index = errors[0]["loc"][0]
            # Report every problem of the first bad element, addressed to its own fields.
            own = [{**e, "loc": tuple(e["loc"][1:])} for e in errors if e["loc"][0] == index]
            raise BadAssessmentInput(problems(own, AssessmentRequest), index=int(index)) from None
    try:
        return AssessmentRequest.model_validate(data)
    except ValidationError as exc:
        raise BadAssessmentInput(problems_from(exc, AssessmentRequest)) from None


def dump_results(results: AssessmentResult | list[AssessmentResult]) -> bytes:
    """The contract's JSON: an object for one result, an array in request order for a batch."""
    if isinstance(results, list):
        return _MANY_RESULTS.dump_json(results, indent=2)
    return results.model_dump_json(indent=2).encode()
