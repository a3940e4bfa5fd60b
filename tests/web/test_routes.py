"""The pages over HTTP (TestClient): each renders, each step validates, bad input keeps the answers and shows
the message beside the field, the result is the engine's, articles render with sources, errors are pages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from fusioncare.knowledge.articles import get_library
from fusioncare.knowledge.loader import get_pack
from fusioncare.triage.schemas import AssessmentRequest
from fusioncare.triage.service import assess

from .pagescan import scan
from .walker import HTML, ROUTINE, post, questionnaire_form, step_number, submit, walk


def test_home_page_says_what_this_is_and_links_to_the_assessment_and_every_article(client):
    response = client.get("/", headers=HTML)
    assert response.status_code == 200
    page = scan(response.text)
    assert "Check my symptoms" in page.text
    assert "call 911 or go to the emergency department now" in page.text
    for article in get_library().articles:
        assert f'href="/learn/{article.slug}"' in response.text
    assert 'href="/assess"' in response.text


def test_assessment_starts_at_step_one_with_a_progress_indicator_and_no_back_button(client):
    response = client.get("/assess", headers=HTML)
    assert response.status_code == 200
    assert step_number(response) == 1
    form = questionnaire_form(response.text)
    assert [v for _, v, _ in form.buttons] == ["next"]
    assert response.headers["cache-control"] == "no-store"


def test_surgery_step_with_nothing_answered_names_each_missing_field_beside_it(client):
    response = submit(client, client.get("/assess", headers=HTML), {"surgery_time_amount": ""})
    assert response.status_code == 422
    errors = scan(response.text).field_errors
    assert errors == {
        "surgery_time_amount": "Error: How long ago your surgery was: this field is required",
        "fusion_region": "Error: Where your fusion is: this field is required",
        "sciatica_before_surgery": "Error: Sciatica before surgery: this field is required",
    }
    assert step_number(response) == 1


@pytest.mark.parametrize(("amount", "unit", "message"), [
    ("-1", "months", "greater than or equal to 0"),
    ("51", "years", "must be at most 600 months (50 years)"),
    ("601", "months", "must be at most 600 months (50 years)"),
    ("soon", "months", "valid number"),
    ("nan", "months", "finite number"),
])
def test_time_since_surgery_out_of_range_or_not_a_number_is_explained_and_other_answers_kept(
        client, amount, unit, message):
    response = submit(client, client.get("/assess", headers=HTML),
                      {**ROUTINE, "surgery_time_amount": amount, "surgery_time_unit": unit})
    assert response.status_code == 422
    page = scan(response.text)
    assert page.field_errors.keys() == {"surgery_time_amount"}
    assert page.field_errors["surgery_time_amount"].startswith("Error: How long ago your surgery was:")
    assert message in page.field_errors["surgery_time_amount"]
    form = questionnaire_form(response.text)
    checked = {(name, value) for kind, name, value, on in form.inputs if on and kind != "select"}
    assert {("fusion_region", "lumbar"), ("sciatica_before_surgery", "yes")} <= checked
    assert ("select", "surgery_time_unit", unit, True) in form.inputs
    assert ("number", "surgery_time_amount", amount, False) in form.inputs


def test_pain_step_problem_is_shown_beside_the_field_and_the_surgery_answers_ride_along(client):
    step2 = submit(client, client.get("/assess", headers=HTML), ROUTINE)
    assert step_number(step2) == 2
    response = submit(client, step2, {"leg_pain": "4", "trend": "worsening"})
    assert response.status_code == 422
    page = scan(response.text)
    assert page.field_errors == {"back_pain": "Error: Back pain: this field is required",
                                 "constant_pain": "Error: Pain that never lets up: this field is required"}
    form = questionnaire_form(response.text)
    assert ("surgery_time_amount", "2") in form.hidden and ("fusion_region", "lumbar") in form.hidden
    assert ("radio", "leg_pain", "4", True) in form.inputs
    assert ("radio", "trend", "worsening", True) in form.inputs


def test_back_goes_to_the_previous_step_without_checking_and_keeps_what_was_entered(client):
    step2 = submit(client, client.get("/assess", headers=HTML), ROUTINE)
    back = submit(client, step2, {"leg_pain": "9"}, action="back")
    assert back.status_code == 200
    assert step_number(back) == 1
    form = questionnaire_form(back.text)
    assert ("leg_pain", "9") in form.hidden
    assert ("radio", "fusion_region", "lumbar", True) in form.inputs


def test_each_symptom_group_of_the_pack_is_one_step_with_the_urgent_groups_first(client):
    pack = get_pack()
    response = submit(client, submit(client, client.get("/assess", headers=HTML), ROUTINE), ROUTINE)
    seen: list[set[str]] = []
    while "Treatments you have tried" not in response.text:
        form = questionnaire_form(response.text)
        seen.append({value for kind, name, value, _ in form.inputs if name == "symptoms"})
        response = submit(client, response)
    assert seen == [{s.code.value for s in pack.symptoms_in_group(g.code)} for g in pack.question_groups]
    assert seen[0] >= {"saddle_numbness", "bladder_dysfunction", "bowel_incontinence"}


def test_a_routine_walk_through_gives_the_engines_result_for_the_same_answers(client):
    response = walk(client, {**ROUTINE, "treatments_tried": ["physical_therapy"]})
    expected = assess(request=AssessmentRequest(months_since_surgery=2, leg_pain=3, back_pain=3, trend="improving",
                                                sciatica_before_surgery=True, treatments_tried=["physical_therapy"]))
    assert expected.urgency == "routine"
    page = scan(response.text)
    assert response.headers["cache-control"] == "no-store"
    assert expected.headline in page.text
    for part in (*[r.text for r in expected.reasons], *[c.name for c in expected.possible_contributors],
                 *[s.name for s in expected.recommended_specialties], *[t.evidence for t in expected.treatment_options],
                 *expected.next_steps, expected.disclaimer):
        assert part in page.text
    assert "2 months ago, lower back (lumbar)" in page.text


def test_emergency_result_puts_the_call_911_banner_first_with_what_to_say(client):
    response = walk(client, {**ROUTINE, "surgery_time_amount": "3", "surgery_time_unit": "years",
                             "symptoms": ["saddle_numbness", "bladder_dysfunction"]})
    html = response.text
    main = html[html.index('<main'):]
    assert main.index('class="urgency urgency-emergency"') < main.index("Why we say this")
    page = scan(response.text)
    assert "Call 911 or go to the emergency department now" in page.text
    assert 'href="tel:911"' in html
    assert "I had spinal fusion surgery 3 years ago." in page.text
    assert "Emergency medicine" in page.text.split("Whom to see", 1)[1].split("Your answers")[0][:200]


def test_years_are_turned_into_months_for_the_engine(client):
    """84 months with walking leg pain is the contract's 'sciatica back years later' example: soon, spine surgeon."""
    response = walk(client, {**ROUTINE, "surgery_time_amount": "7", "surgery_time_unit": "years", "leg_pain": "6",
                             "back_pain": "4", "trend": "worsening", "symptoms": ["walking_leg_pain"]})
    expected = assess(request=AssessmentRequest(months_since_surgery=84, leg_pain=6, back_pain=4, trend="worsening",
                                                sciatica_before_surgery=True, symptoms=["walking_leg_pain"]))
    assert expected.urgency == "soon"
    assert 'class="urgency urgency-soon"' in response.text
    assert expected.headline in scan(response.text).text


def test_a_changed_hidden_answer_is_caught_on_the_step_that_asks_it(client):
    response = client.get("/assess", headers=HTML)
    for _ in range(2):
        response = submit(client, response, ROUTINE)
    form = questionnaire_form(response.text)
    data = [(n, "42" if n == "leg_pain" else v) for n, v in form.hidden] + [("action", "next")]
    tampered = post(client, data)
    assert tampered.status_code == 422
    assert step_number(tampered) == 2
    assert scan(tampered.text).field_errors == {"leg_pain": "Error: Leg pain: Input should be less than or equal to 10"}


def test_an_unknown_symptom_code_in_a_hand_made_post_lists_the_allowed_codes(client):
    steps_total = 3 + len(get_pack().question_groups)
    data = [(k, v) for k, v in ROUTINE.items()] + [("symptoms", "headache"), ("step", "treatments"), ("action", "next")]
    response = post(client, data)
    assert response.status_code == 422
    assert step_number(response) == 3 and steps_total > 3
    message = scan(response.text).text
    assert "Symptoms: \"headache\" is not allowed; allowed values are:" in message
    assert "'saddle_numbness'" in message


def test_an_unknown_step_starts_the_questionnaire_again(client):
    response = client.post("/assess", data={"step": "nope", "action": "next"}, headers=HTML)
    assert response.status_code == 200
    assert step_number(response) == 1


def test_change_my_answers_on_the_result_goes_back_to_the_last_step_with_everything_kept(client):
    result = walk(client, {**ROUTINE, "treatments_tried": ["tens"]})
    form = next(f for f in scan(result.text).forms if f.action == "/assess")
    response = post(client, [*form.hidden, ("action", "change")])
    assert "Treatments you have tried" in scan(response.text).text
    assert ("radio", "leg_pain", "3", True) not in questionnaire_form(response.text).inputs
    assert ("checkbox", "treatments_tried", "tens", True) in questionnaire_form(response.text).inputs
    assert ("leg_pain", "3") in questionnaire_form(response.text).hidden


def test_an_assessment_stores_nothing(client, clean_engine):
    walk(client, {**ROUTINE, "symptoms": ["low_mood"]})
    with clean_engine.connect() as conn:
        for table in inspect(clean_engine).get_table_names():
            if table != "alembic_version":
                assert conn.execute(text(f'SELECT COUNT(*) FROM "{table}"')).scalar_one() == 0, table


def test_learn_index_lists_every_article_in_order(client):
    response = client.get("/learn", headers=HTML)
    assert response.status_code == 200
    html = response.text
    positions = [html.index(f'href="/learn/{a.slug}"') for a in get_library().articles]
    assert positions == sorted(positions) and len(positions) == 9


@pytest.mark.parametrize("slug", [a.slug for a in get_library().articles])
def test_each_article_renders_with_its_sources_the_red_flags_and_a_link_to_the_assessment(client, slug):
    article = get_library().get(slug)
    response = client.get(f"/learn/{slug}", headers=HTML)
    assert response.status_code == 200
    page = scan(response.text)
    assert article.title in page.text
    assert "When to get help now" in page.text and "Call 911 or go to the emergency department now" in page.text
    sources = page.text.split("Sources", 1)[1]
    for source in article.sources:
        assert source.title in sources and source.publisher in sources
    assert 'href="/assess"' in response.text


def test_the_about_this_content_page_says_how_content_is_checked_and_every_article_links_to_it(client):
    about = client.get("/learn/about-this-content", headers=HTML)
    assert about.status_code == 200
    text = scan(about.text).text
    assert "How we write and check this content" in text and "No outside doctor has signed off" in text
    article = client.get(f"/learn/{get_library().articles[0].slug}", headers=HTML)
    assert 'href="/learn/about-this-content"' in article.text and "pending" not in article.text.lower()


def test_an_unknown_article_is_a_404_page_for_browsers_and_json_for_api_clients(client):
    page = client.get("/learn/no-such-article", headers=HTML)
    assert page.status_code == 404
    assert "Page not found" in scan(page.text).text
    assert page.headers["content-type"].startswith("text/html")
    api = client.get("/learn/no-such-article", headers={"accept": "application/json"})
    assert api.status_code == 404
    assert api.json()["code"] == "not_found"


def test_an_unknown_path_is_the_404_page_in_the_site_design(client):
    response = client.get("/no/such/page", headers=HTML)
    assert response.status_code == 404
    assert 'href="/static/app.css"' in response.text and "Page not found" in response.text


def test_an_unexpected_error_is_the_500_page_for_browsers_and_json_under_the_api(app):
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/boom", boom)
    app.add_api_route("/api/v1/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/boom", headers=HTML)
        api = client.get("/api/v1/boom", headers=HTML)
    assert page.status_code == 500
    assert "Something went wrong on our side" in page.text and "secret internal detail" not in page.text
    assert api.status_code == 500
    assert api.json() == {"detail": "Something went wrong on our side. Please try again."}


def test_pages_carry_a_content_security_policy_without_inline_allowances(client):
    for path in ("/", "/assess", "/learn"):
        csp = client.get(path, headers=HTML).headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp


def test_a_submission_far_bigger_than_the_questionnaire_is_refused_with_a_page(client):
    response = client.post("/assess", data={"symptoms": [f"s{i}" for i in range(500)], "step": "surgery"},
                           headers=HTML)
    assert response.status_code == 400
    assert 'href="/static/app.css"' in response.text


def test_an_urgent_result_lists_the_warning_signs_in_the_packs_words(client):
    """Contract example 'incision draining with a fever two weeks after surgery': urgent or emergency."""
    response = walk(client, {**ROUTINE, "surgery_time_amount": "0.5", "leg_pain": "4", "back_pain": "7",
                             "trend": "worsening", "symptoms": ["fever", "wound_drainage"]})
    pack = get_pack()
    expected = assess(request=AssessmentRequest(months_since_surgery=0.5, leg_pain=4, back_pain=7, trend="worsening",
                                                sciatica_before_surgery=True, symptoms=["fever", "wound_drainage"]))
    assert expected.urgency in ("urgent", "emergency")
    assert f'class="urgency urgency-{expected.urgency.value}"' in response.text
    banner = scan(response.text.split('class="urgency ', 1)[1].split("</section>", 1)[0]).text
    for code in ("fever", "wound_drainage"):
        assert pack.symptom_by_code[code].plain_words in banner


def test_answers_shown_again_are_escaped_not_run(client):
    evil = '"><script>alert(1)</script>'
    response = post(client, [("step", "surgery"), ("action", "next"), ("surgery_time_amount", evil),
                             ("symptoms", evil)])
    assert response.status_code == 422
    assert "<script>" not in response.text
    assert scan(response.text).inline_problems == []
    assert ("surgery_time_amount", evil) not in questionnaire_form(response.text).hidden
    assert ("symptoms", evil) in questionnaire_form(response.text).hidden  # carried as text until checked
