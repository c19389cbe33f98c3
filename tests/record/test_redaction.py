from gameday.record.redaction import MASK, Redactor, secret_values


def test_secrets_and_secret_named_configuration_are_collected() -> None:
    values = secret_values(
        {"slack_webhook": "https://hooks.example/T0/B0/xyz", "team": "sre", "api_key": "k3y-123"},
        {"pager": {"token": "s3cr3t-t0ken"}},
    )
    assert values == {"https://hooks.example/T0/B0/xyz", "k3y-123", "s3cr3t-t0ken"}


def test_every_string_in_a_document_is_scrubbed() -> None:
    redactor = Redactor({"s3cr3t-t0ken", "s3cr3t"})
    document = {
        "detail": "called with s3cr3t-t0ken",
        "nested": [{"s3cr3t": "x"}, 5, None, "plain"],
    }
    assert redactor.scrub_document(document) == {
        "detail": f"called with {MASK}",
        "nested": [{MASK: "x"}, 5, None, "plain"],
    }


def test_nothing_to_redact_leaves_the_document_alone() -> None:
    document = {"a": "b"}
    assert Redactor([]).scrub_document(document) is document
