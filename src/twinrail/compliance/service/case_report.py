"""A case as a suspicious-activity report draft: the facts, not the secrets.

The draft names the subject (customer id, KYC status and tier, beneficial owners), the accounts
and counterparties seen (IBAN, BIC, wallet), the orders with their amounts and the engine's
outcome, the screening hits, a timeline of every alert, note and decision, and the decisions
with who made them. It is built from chosen fields only: no credentials, keys, signatures or
request bodies ever reach it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from twinrail.compliance.domain.cases import AlertKind, Case
from twinrail.compliance.domain.errors import UnknownCase
from twinrail.compliance.service.party_screening_service import current_hits
from twinrail.compliance.store.case_store import CaseStore
from twinrail.compliance.store.kyc_store import KycStore
from twinrail.platform.db import READ_ONLY

__all__ = ["case_report", "report_markdown"]


def case_report(engine: Engine, case_id: str) -> dict[str, Any]:
    """The JSON draft of a case's report."""
    with engine.connect().execution_options(**READ_ONLY) as conn:
        case = CaseStore(conn).case(case_id)
        if case is None:
            raise UnknownCase("no such case", case_id=case_id)
        kyc = KycStore(conn)
        profile = kyc.profile(case.customer_id)
        screening = current_hits(conn, case.customer_id)
        decisions = [
            d
            for a in case.alerts
            if a.kind is AlertKind.DECISION and (d := kyc.decision(a.ref)) is not None
        ]
    orders = [
        {
            "order_id": d.order_id,
            "decision_id": d.decision_id,
            "outcome": d.outcome,
            "type": d.inputs.get("order_type"),
            "asset": d.inputs.get("asset"),
            "amount": d.inputs.get("amount"),
            "eur_cents": d.inputs.get("eur_cents"),
            "decided_at": d.decided_at.isoformat(),
            "reasons": [r["code"] for r in d.reasons],
        }  # fmt: skip
        for d in decisions
    ]
    counterparties = [d.inputs["counterparty"] for d in decisions if d.inputs.get("counterparty")]
    return {
        "case_id": case.case_id,
        "status": case.status.value,
        "subject": {
            "customer_id": case.customer_id,
            "kyc_status": profile.status.value if profile else "unverified",
            "kyc_tier": int(profile.tier) if profile else 0,
            "beneficial_owners": screening.to_dict()["owners"],
        },
        "accounts": {
            "clients": sorted({a.client_id for a in case.alerts if a.client_id}),
            "counterparties": counterparties,
        },
        "transactions": orders,
        "hits": [_hit(h) for h in screening.hits],
        "timeline": _timeline(case),
        "decisions": [
            {
                "decision_id": d.decision_id,
                "verdict": d.verdict.value,
                "status": d.status,
                "reasons": list(d.reasons),
                "prepared_by": d.prepared_by,
                "approved_by": [a.by for a in d.approvals],
            }  # fmt: skip
            for d in case.decisions
        ],
    }


def _hit(hit: dict[str, Any]) -> dict[str, Any]:
    keys = ("party_id", "list", "list_version", "entity_id", "entity_name", "matched_name",
            "score", "programs", "suppressed", "recorded_at")  # fmt: skip
    return {k: hit.get(k) for k in keys}


def _timeline(case: Case) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"at": case.opened_at.isoformat(), "what": "case opened", "by": None}
    ]
    events += [
        {
            "at": a.raised_at.isoformat(),
            "what": f"alert {a.kind.value} ({a.severity.value})",
            "by": a.raised_by,
            "order_id": a.order_id,
        }  # fmt: skip
        for a in case.alerts
    ]
    events += [
        {
            "at": n.at.isoformat(),
            "what": n.kind,
            "by": n.author,
            "text": n.body,
            "uri": n.uri,
            "sha256": n.sha256,
        }  # fmt: skip
        for n in case.notes
    ]
    for d in case.decisions:
        events.append({"at": d.prepared_at.isoformat(), "what": f"decision {d.verdict.value} "
                       "prepared", "by": d.prepared_by})  # fmt: skip
        events += [
            {"at": a.at.isoformat(), "what": "decision approved", "by": a.by} for a in d.approvals
        ]
    return sorted(events, key=lambda e: str(e["at"]))


def report_markdown(report: dict[str, Any]) -> str:
    """The draft as Markdown, for a human to complete."""
    subject = report["subject"]
    lines = [
        f"# Suspicious activity report draft — case {report['case_id']}",
        "",
        "## Subject",
        f"- Customer: `{subject['customer_id']}` (KYC {subject['kyc_status']}, "
        f"tier {subject['kyc_tier']})",
    ]
    lines += [
        f"- Beneficial owner `{o['owner_id']}`: {o['ownership_percent']} %, {o['country'] or '?'}"
        for o in subject["beneficial_owners"]
    ]
    lines += ["", "## Accounts and counterparties"]
    lines += [f"- Client `{c}`" for c in report["accounts"]["clients"]]
    lines += [
        "- Counterparty: " + ", ".join(f"{k} {v}" for k, v in cp.items() if v)
        for cp in report["accounts"]["counterparties"]
    ]
    lines += ["", "## Transactions", "", "| order | type | asset | amount | outcome | reasons |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    lines += [
        f"| {t['order_id']} | {t['type']} | {t['asset']} | {t['amount']} | {t['outcome']} | "
        f"{', '.join(t['reasons'])} |"
        for t in report["transactions"]
    ]
    lines += ["", "## Screening hits"]
    lines += [
        f"- {h['list']} v{h['list_version']} `{h['entity_id']}` {h['entity_name']} "
        f"(score {h['score']}{', false positive' if h['suppressed'] else ''})"
        for h in report["hits"]
    ]
    lines += ["", "## Timeline"]
    lines += [f"- {e['at']} — {e['what']}" + (f" by {e['by']}" if e["by"] else "")
              for e in report["timeline"]]  # fmt: skip
    lines += ["", "## Decisions"]
    lines += [
        f"- {d['verdict']} ({d['status']}): prepared by {d['prepared_by']}, approved by "
        f"{', '.join(d['approved_by']) or 'nobody yet'} — {'; '.join(d['reasons'])}"
        for d in report["decisions"]
    ]
    return "\n".join(lines) + "\n"
