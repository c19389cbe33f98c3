"""The words runbooks use for their parts: field labels and section titles, in a few languages.

Runbooks say the same things in many ways ("Severity", "Priority", "Sev",
"Schweregrad", "Серьёзность"); the extractors ask this module what a label
or a heading means instead of matching one spelling.
"""

from __future__ import annotations

import re

__all__ = [
    "FIELD_KEYS",
    "field_key",
    "generic_title",
    "is_alert_section",
    "page_section_kind",
    "procedure_rank",
]

_FIELDS: dict[str, str] = {
    "alert": (
        r"alert|alert ?name|alertname|alert rule|alarm|alarm ?name|alerte|alerta|alerting rule|"
        r"алерт|оповещение|тревога|аларм|алерт ?name"
    ),
    "severity": (
        r"severity|sev|severity level|priority|prio|urgency|criticality|level|"
        r"schweregrad|priorität|dringlichkeit|sévérité|gravité|priorité|severidad|gravedad|"
        r"prioridad|серь[её]зность|важность|критичность|приоритет|уровень"
    ),
    "meaning": (
        r"meaning|description|summary|what it means|what(?: it is)?|means|bedeutung|"
        r"beschreibung|signification|significado|descripci[óo]n|значение|описание|смысл"
    ),
    "impact": r"impact|user impact|slo impact|customer impact|auswirkungs?|влияние|последствия",
    "threshold": (
        r"threshold|condition|trigger|triggers?(?: when)?|fires(?: when)?|expression meaning|"
        r"schwellenwert|bedingung|seuil|condici[óo]n|umbral|порог|условие"
    ),
    "for": r"for|duration|pending|fires after|pending for|dauer|durée|duraci[óo]n|длительность",
    "expr": r"expr|expression|query|promql|rule expression|запрос|выражение",
    "response": (
        r"response|response time|response sla|ack|ack(?:nowledge)? within|time to respond|"
        r"sla|reaktionszeit|temps de réponse|tiempo de respuesta|время реакции"
    ),
    "procedure": (
        r"procedure|runbook|runbook url|playbook|remediation|fix|action|actions|"
        r"what to do|процедура|действия|maßnahmen|massnahmen|procédure|procedimiento"
    ),
    "dashboards": r"dashboards?|grafana|панель|дашборд",
    "escalation": r"escalat\w*|escalate if|escalate when|eskalation|escalade|escalado|эскалация",
    "rollback": r"rollback|roll back|rollback trigger|rollback if|откат",
    "owner": r"owner|team|owning team|service owner|владелец|команда|verantwortlich",
    "slo": r"slo|sli|slo target|objective|service level objective",
    "service": r"service|component|system|сервис|dienst",
}
FIELD_KEYS = tuple(_FIELDS)
_FIELD_PATTERNS = tuple(
    (key, re.compile(rf"^(?:{pattern})$", re.IGNORECASE)) for key, pattern in _FIELDS.items()
)


def field_key(label: str) -> str | None:
    """The field a label names ("Alert name" → alert, "Schweregrad" → severity), or None."""
    text = " ".join(label.replace("_", " ").split()).strip(" :*-–—").lower()
    for key, pattern in _FIELD_PATTERNS:
        if pattern.match(text):
            return key
    return None


# Section kinds of a page about one alert (Meaning / Impact / Diagnosis / Mitigation …).
_PAGE_SECTIONS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        (
            "severity",
            r"^(severity|sev|priority|prio|urgency|criticality|alert level|incident level|"
            r"classification|response time|response sla|time to respond|sla|"
            r"schweregrad|priorit[äa]t|dringlichkeit|s[ée]v[ée]rit[ée]|gravit[ée]|priorit[ée]|"
            r"urgence|severidad|gravedad|prioridad|urgencia|серь[её]зность|приоритет|"
            r"критичность|важность|срочность|время реакции)\b",
        ),
        (
            "meaning",
            r"^(meaning|description|summary|overview|what (does )?(this|it) (alert )?means?|"
            r"what is (this|it)|alert details|details|about( this alert)?|context|"
            r"bedeutung|beschreibung|signification|significado|descripci[óo]n|"
            r"значение|описание|что это( значит)?)\b",
        ),
        (
            "impact",
            r"^(impact|user impact|customer impact|business impact|consequences|"
            r"auswirkung(en)?|influence|conséquences|impacto|влияние|последствия)\b",
        ),
        (
            "diagnosis",
            r"^(diagnos(is|e|tic|tico|tik)|triage|investigat(e|ion)|troubleshoot(ing)?|"
            r"symptoms?|possible causes|causes?|root causes?|how to (check|investigate)|"
            r"verification|verify|checks?|debug(ging)?|ursachen|fehlersuche|analyse|"
            r"causas|síntomas|диагностика|причины|симптомы|проверка|расследование)\b",
        ),
        (
            "mitigation",
            r"^(mitigat(e|ion)|remediat(e|ion)|resolution|resolve|fix(es)?|how to fix|"
            r"recovery|recover|response|responding|what to do|actions?|steps|procedure|"
            r"runbook|playbook|handling|workaround|rollback|roll back|solution|"
            r"behebung|lösung|maßnahmen|massnahmen|abhilfe|atténuation|résolution|solution|"
            r"mitigaci[óo]n|resoluci[óo]n|soluci[óo]n|устранение|решение|действия|"
            r"исправление|восстановление|смягчение)\b",
        ),
        ("escalation", r"^(escalat\w*|eskalation|escalade|escalado|эскалация)\b"),
    )
)


def page_section_kind(title: str) -> str | None:
    """severity / meaning / impact / diagnosis / mitigation / escalation for a heading,
    or None."""
    text = title.strip(" :*`").lower()
    for kind, pattern in _PAGE_SECTIONS:
        if pattern.match(text):
            return kind
    return None


_PROCEDURE_WORDS = re.compile(
    r"\b(procedures?|steps?|runbook|playbook|mitigat\w*|remediat\w*|resolution|resolv\w*|"
    r"fix(es|ing)?|recover\w*|restor\w*|rollback|roll back|actions?|what to do|response|"
    r"handling|workaround|triage|diagnos\w*|investigat\w*|troubleshoot\w*|checks?|"
    r"behebung|lösung|maßnahmen|diagnose|atténuation|résolution|mitigaci[óo]n|"
    r"устранение|решение|действия|диагностика|восстановление)\b",
    re.IGNORECASE,
)


def procedure_rank(title: str) -> int:
    """How directly a section title says "do this": 3 fix/mitigate, 2 procedure/steps,
    1 diagnose/investigate, 0 not a procedure title."""
    kind = page_section_kind(title)
    if kind == "mitigation":
        return 3
    if kind == "diagnosis":
        return 1
    return 2 if _PROCEDURE_WORDS.search(title) else 0


_ALERT_SECTION = re.compile(
    r"alert|alarm|alerte|alerta|алерт|оповещени|monitor|pages?\b|paging|signals?\b",
    re.IGNORECASE,
)


def is_alert_section(title: str) -> bool:
    """A heading about alerts ("Alerts", "Alert reference", "Оповещения", "Paging signals")."""
    return bool(_ALERT_SECTION.search(title))


_GENERIC = re.compile(
    r"\b(runbooks?|playbooks?|handbook|guide|operations|ops|manual|index|overview|"
    r"on-?call|procedures|service|services|platform|system|documentation|docs|readme|"
    r"table of contents|contents|incident response|alerts|alerting|monitoring|"
    r"руководство|инструкция|handbuch|betriebshandbuch|guía|manuel)\b",
    re.IGNORECASE,
)


def generic_title(title: str) -> bool:
    """A title that names a document, not one alert ("Payments runbook", "Alerts")."""
    return bool(_GENERIC.search(title))


_CONDITION_WORDS = re.compile(
    r"(down|high|low|slow|full|lag|lagging|errors?|fail\w*|latency|unavailable|unreachable|"
    r"unhealthy|missing|absent|stuck|crash\w*|restart\w*|oom|oomkill\w*|exhaust\w*|"
    r"expir\w*|degrad\w*|spikes?|saturat\w*|backlog|timeouts?|timing|notready|dead|offline|"
    r"outage|breach\w*|burn\w*|budget|drops?|dropp\w*|loss|lost|leak\w*|pressure|throttl\w*|"
    r"split|brain|partition\w*|noleader|leaderless|quorum|overload\w*|exceed\w*|too|many|few|"
    r"nearly|almost|near|risk|storm|flap\w*|mismatch|skew|drift|stale|invalid|rejected|"
    r"denied|unauthori[sz]ed|5xx|4xx|deadlock\w*|corrupt\w*|inconsistent|diverg\w*|behind|"
    r"hung|hang\w*|frozen|starv\w*|anomal\w*|abnormal|increas\w*|decreas\w*|grow\w*|"
    r"filling|approaching|unresponsive|not|no|zero|empty|blocked|capacity|quota|limit\w*|"
    r"slo|sli|apdex|unstable|flaky|broken|lost|disconnect\w*|unbound|pending|queued|"
    r"недоступ\w*|ошибк\w*|высок\w*|задержк\w*|переполн\w*|упал\w*|отказ\w*|медлен\w*|"
    r"заполн\w*|нет|ausfall|fehler\w*|hoch|voll|langsam|nicht|panne|erreur\w*|[ée]lev[ée]e?|"
    r"lent|plein|ca[íi]d[oa]|alto|lento|lleno|indisponible|ausgefallen)",
    re.IGNORECASE,
)
_WORD_SPLIT = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+[a-z]*|[^\W\d_]+")


def names_a_condition(name: str) -> bool:
    """A name that says something is wrong ("Camera Offline", "DiskAlmostFull", "HIGH_CPU"),
    as alert names do; "Routing" or "Overview" do not."""
    words = _WORD_SPLIT.findall(name)
    return any(_CONDITION_WORDS.fullmatch(word) for word in words)
