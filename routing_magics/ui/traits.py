"""RouteMagics' settings as traitlets: `%config RouteMagics.rows = 100`, or `c.RouteMagics` in a
config file. Defaults that come from the environment are read once, into `_env`."""

from __future__ import annotations

from traitlets import Bool, Enum, Float, Int, Unicode, default

from ..config import Settings
from .answer_traits import AnswerTraits
from .money_traits import MoneyTraits


class RouteTraits(AnswerTraits, MoneyTraits):
    """Where requests go, what a cell defaults to and how it is shown (see also AnswerTraits)."""

    _env: Settings  # set by RouteMagics before the traits are first read

    base_url = Unicode(help="Primary routing.run base URL (env ROUTING_RUN_BASE_URL).").tag(
        config=True
    )
    fallback_base_url = Unicode(
        help="Secondary base URL used after a retryable failure; empty disables failover "
        "(env ROUTING_RUN_FALLBACK_BASE_URL)."
    ).tag(config=True)
    offline = Bool(
        help="Always answer from the bundled emulator (env ROUTING_MAGICS_OFFLINE=1)."
    ).tag(config=True)
    usage_db = Unicode(help="Path of the SQLite usage ledger (env ROUTING_MAGICS_USAGE_DB).").tag(
        config=True
    )
    default_model = Unicode("", help="Model for cells that name none (also `%route use`).").tag(
        config=True
    )
    rows = Int(50, help="Default cap on dataframe rows sent with --df.").tag(config=True)
    max_tokens = Int(None, allow_none=True, help="Default max_tokens when a cell gives none.").tag(
        config=True
    )
    emulator_token_rate = Float(
        None, allow_none=True, help="Tokens/s of the bundled emulator; None streams unthrottled."
    ).tag(config=True)
    answer_deadline = Float(
        help="Seconds one answer may take in all, however steadily it streams "
        "(env ROUTING_MAGICS_ANSWER_DEADLINE; default 1800)."
    ).tag(config=True)
    requests_per_minute = Int(
        None,
        allow_none=True,
        help="Pace of --each batches; default and most: the plan's per-minute limit.",
    ).tag(config=True)
    display_mode = Enum(
        ["auto", "rich", "text"], "auto", help="rich: HTML live view; text: print as it arrives."
    ).tag(config=True)

    @default("base_url")
    def _default_base_url(self) -> str:
        return self._env.base_url

    @default("fallback_base_url")
    def _default_fallback(self) -> str:
        return self._env.fallback_base_url or ""

    @default("offline")
    def _default_offline(self) -> bool:
        return self._env.offline

    @default("usage_db")
    def _default_usage_db(self) -> str:
        return self._env.usage_db

    @default("answer_deadline")
    def _default_deadline(self) -> float:
        return self._env.answer_deadline

    @default("emulator_token_rate")
    def _default_rate(self) -> float | None:
        return self._env.emulator_token_rate
