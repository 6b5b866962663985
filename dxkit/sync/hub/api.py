"""The JSON API for the provincial systems (issue 13 §2): `/api/v1/…`, aggregates only.

Every request carries a consuming system's bearer token (hub/consumers.py); none, an unknown
or a disabled one answers 401. Answers hold counts per area and period and the names of areas
and teams — never a person's name, phone, ID number or address, nor any record's id; a count
from 0 to 4 is "<5", and a share whose numerator or denominator is under 5 is null, so no
household can be singled out. A bad parameter answers 400 with one sentence (a well-formed
commune code that names no commune: 404). Errors are the hub's usual {"error": code,
"message": sentence}.

- GET /api/v1/indicators?period=YYYY-MM[&commune=CODE][&level=commune|hamlet]
- GET /api/v1/activity?period=YYYY-MM[&commune=CODE][&level=commune|hamlet]
- GET /api/v1/trend[?commune=CODE][&months=N]
- GET /api/v1/teams?period=YYYY-MM[&commune=CODE]
- GET /api/v1/sync-status[?days=N][&commune=CODE]

Before answering, the figures are brought up to date for at most half a second
(figures.ensure_fresh); `as_of` and `complete` say how current they are. Described in
dxkit/sync/openapi.json.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.reports.monthly import Period
from dxkit.sync.hub import figures
from dxkit.sync.hub.consumers import consumer_of
from dxkit.sync.hub.figures import (
    AreaFigures,
    IndicatorFigure,
    ItemFigure,
    MonthFigures,
    TeamFigures,
    TeamSync,
    shown,
    shown_share,
)
from dxkit.sync.hub.guard import bearer_of
from dxkit.sync.hub.officials import commune_by_code
from dxkit.sync.hub.store import HubStore

PREFIX = "/api/v1"
MAX_MONTHS = 120
MAX_DAYS = 3650
FRESH_SECONDS = 0.5  # at most this long spent bringing figures up to date before a read
LEVELS = ("commune", "hamlet")


class BadParameter(Exception):
    def __init__(self, message: str, status: int = 400, code: str = "bad_request"):
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


def _error(status: int, code: str, message: str) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": code, "message": message}, status_code=status,
                        headers=headers)


# -- parameters ------------------------------------------------------------------------------
def _params(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name not in allowed:
            raise BadParameter(_("Unknown parameter “{name}”; this address takes: "
                                 "{names}.").format(name=name, names=", ".join(allowed)))
        if name in found:
            raise BadParameter(_("Give the parameter “{name}” once.").format(name=name))
        found[name] = value
    return found


def _period(params: Mapping[str, str]) -> str:
    text = params.get("period")
    if text is None:
        raise BadParameter(_("Give the period as period=YYYY-MM, for example 2026-03."))
    try:
        Period.month(text)
    except DxError as refused:
        raise BadParameter(str(refused)) from None
    return text.strip()


def _commune(params: Mapping[str, str]) -> int | None:
    text = params.get("commune")
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise BadParameter(_("commune must be a commune's or ward's code (digits)."))
    found = commune_by_code(text)
    if found is None:  # well formed, but no such commune: nothing there to answer about
        raise BadParameter(_("There is no commune or ward with the code “{code}”.").format(
            code=text), 404, "not_found")
    return found[1].code


def _whole(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise BadParameter(_("{name} must be a whole number from {low} to {high}.").format(
            name=name, low=low, high=high))
    return int(text)


def _level(params: Mapping[str, str]) -> figures.Level:
    text = params.get("level", "commune")
    if text == "hamlet":
        return "hamlet"
    if text == "commune":
        return "commune"
    raise BadParameter(_("level is commune or hamlet, not “{level}”.").format(level=text))


# -- answers ---------------------------------------------------------------------------------
def indicator_json(figure: IndicatorFigure) -> dict[str, Any]:
    share = shown_share(figure.reached, figure.counted)
    return {"code": figure.code, "name_vi": figure.name_vi, "name_en": figure.name_en,
            "reached": shown(figure.reached), "counted": shown(figure.counted),
            "share": share,
            "population": None if figure.population is None else shown(figure.population),
            "population_share": shown_share(figure.reached, figure.population),
            "target": figure.target,
            "met": None if share is None or figure.target is None else share >= figure.target}


def area_json(area: AreaFigures, level: str) -> dict[str, Any]:
    return {"level": level, "key": area.key, "name": area.name,
            "commune_code": area.commune_code, "teams": area.teams,
            "last_sync": area.last_sync}


def activity_json(area: AreaFigures, level: str) -> dict[str, Any]:
    return {**area_json(area, level), "visits": shown(area.visits),
            "households_reached": shown(area.households_reached),
            "people_helped": shown(area.people_helped),
            "followups_overdue": shown(area.followups_overdue)}


def item_json(item: ItemFigure) -> dict[str, Any]:
    return {"code": item.code, "name_vi": item.name_vi, "name_en": item.name_en,
            "done": shown(item.done), "partly": shown(item.partly),
            "not_done": shown(item.not_done)}


def month_json(month: MonthFigures) -> dict[str, Any]:
    return {"month": month.month, "visits": shown(month.visits),
            "households_reached": shown(month.households_reached),
            "people_helped": shown(month.people_helped),
            "shares": {code: shown_share(*month.counts[code]) if code in month.counts
                       else None for code in month.shares}}


def team_json(team: TeamFigures) -> dict[str, Any]:
    return {"name": team.name, "commune_code": team.commune_code,
            **{name: shown(getattr(team, name)) for name in figures.TEAM_FIGURES}}


def sync_json(team: TeamSync) -> dict[str, Any]:
    return {"name": team.name, "commune_code": team.commune_code,
            "last_sync": team.last_sync, "days_since": team.days_since}


def api_routes(store: HubStore) -> list[Route]:
    """The API's routes on `store`, and the figures' refresh after every push."""
    refresher = figures.Refresher(store.database)
    store.after_push.append(refresher.poke)

    def fresh() -> dict[str, Any]:
        state = figures.ensure_fresh(store.database, FRESH_SECONDS)
        return {"as_of": state.as_of, "complete": state.complete}

    def indicators_answer(params: Mapping[str, str]) -> dict[str, Any]:
        period, commune, level = _period(params), _commune(params), _level(params)
        state = fresh()
        found = figures.areas(store.conn, period, commune=commune, level=level)
        return {"period": period, **state, "areas": [
            {**area_json(a, level), "indicators": [indicator_json(i) for i in a.indicators]}
            for a in found]}

    def activity_answer(params: Mapping[str, str]) -> dict[str, Any]:
        period, commune, level = _period(params), _commune(params), _level(params)
        state = fresh()
        found = figures.areas(store.conn, period, commune=commune, level=level)
        listed = figures.items(store.conn, period, commune=commune)
        return {"period": period, **state, "areas": [activity_json(a, level) for a in found],
                "items": [item_json(i) for i in listed]}

    def trend_answer(params: Mapping[str, str]) -> dict[str, Any]:
        commune = _commune(params)
        count = _whole(params, "months", 12, 1, MAX_MONTHS)
        state = fresh()
        found = figures.trend(store.conn, commune=commune, months=count)
        return {**state, "months": [month_json(m) for m in found]}

    def teams_answer(params: Mapping[str, str]) -> dict[str, Any]:
        period, commune = _period(params), _commune(params)
        state = fresh()
        found = figures.team_work(store.conn, period, commune=commune)
        return {"period": period, **state, "teams": [team_json(t) for t in found]}

    def sync_answer(params: Mapping[str, str]) -> dict[str, Any]:
        commune = _commune(params)
        days = _whole(params, "days", 7, 0, MAX_DAYS)
        found = figures.sync_status(store.conn, commune=commune, days=days,
                                    now=store.now())
        return {"days": days, "teams": [sync_json(t) for t in found]}

    def endpoint(allowed: tuple[str, ...], answer: Callable[[Mapping[str, str]],
                                                            dict[str, Any]]
                 ) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            token = bearer_of(request.headers.get("authorization", "")) or ""
            if await run_in_threadpool(consumer_of, store, token) is None:
                return _error(401, "unauthorized", _(
                    "This address needs a consuming system's token (Authorization: Bearer "
                    "…); ask the hub administrator for one."))
            try:
                params = _params(request, allowed)
                return JSONResponse(await run_in_threadpool(answer, params))
            except BadParameter as bad:
                return _error(bad.status, bad.code, bad.message)
        return handle

    return [
        Route(f"{PREFIX}/indicators", endpoint(("period", "commune", "level"),
                                               indicators_answer), methods=["GET"]),
        Route(f"{PREFIX}/activity", endpoint(("period", "commune", "level"), activity_answer),
              methods=["GET"]),
        Route(f"{PREFIX}/trend", endpoint(("commune", "months"), trend_answer),
              methods=["GET"]),
        Route(f"{PREFIX}/teams", endpoint(("period", "commune"), teams_answer),
              methods=["GET"]),
        Route(f"{PREFIX}/sync-status", endpoint(("days", "commune"), sync_answer),
              methods=["GET"]),
    ]
