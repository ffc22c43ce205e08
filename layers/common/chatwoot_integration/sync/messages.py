"""Step 3 of a sync: message catch-up, so counters converge when message webhooks were lost.

For each conversation whose newest message is past the sync's mark, every message after the mark is read. The mark
only moves over messages read here, so a message whose webhook was lost is found even when later messages did
arrive. Up to ``message_readers`` conversations are read at once, and no new read starts once the run's time
budget is spent.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from ..chatwoot.errors import ChatwootNotFound
from ..chatwoot.models import Message
from ..mapping import rest_message_records
from ..models.message import MessageRecord
from .budget import Budget
from .metered import MeteredClient
from .models import SyncSettings


@dataclass
class CaughtUp:
    """Messages read for a batch, and per conversation the id up to which they were read."""

    rows: list[MessageRecord]
    through: dict[int, int]
    cut: bool


class MessageCatchUp:
    def __init__(
        self, *, client: MeteredClient, budget: Budget, settings: SyncSettings, integration_id: int, store_content: bool
    ) -> None:
        self._client = client
        self._budget = budget
        self._settings = settings
        self._integration_id = integration_id
        self._store_content = store_content

    def read(self, wanted: list[tuple[int, int]]) -> CaughtUp:
        """Read the messages of each ``(conversation_id, after)``; ``cut`` when the deadline stopped it early."""
        result = CaughtUp(rows=[], through={}, cut=False)
        if not wanted:
            return result
        readers = min(self._settings.message_readers, len(wanted))
        queue = iter(wanted)
        with ThreadPoolExecutor(max_workers=readers, thread_name_prefix="sync-messages") as pool:
            reading: deque[tuple[int, int, Future[tuple[list[Message], int, bool]]]] = deque()
            while True:
                while len(reading) < readers and not result.cut:
                    following = next(queue, None)
                    if following is None:
                        break
                    if self._budget.exhausted():
                        result.cut = True
                        break
                    reading.append((*following, pool.submit(self._messages_after, *following)))
                if not reading:
                    return result
                conversation_id, after, future = reading.popleft()
                messages, through, cut = future.result()
                result.rows.extend(
                    rest_message_records(
                        self._integration_id,
                        conversation_id,
                        messages,
                        store_content=self._store_content,
                    )
                )
                if through > after:
                    result.through[conversation_id] = through
                result.cut = result.cut or cut

    def _messages_after(self, conversation_id: int, after: int) -> tuple[list[Message], int, bool]:
        """Messages after ``after``, ascending, page by page; the id read up to; whether the deadline cut it."""
        collected: list[Message] = []
        through = after
        for _ in range(self._settings.max_message_pages):
            try:
                page = self._client.messages_after(conversation_id, through)
            except ChatwootNotFound:
                break  # deleted since the list was read: the next full pass finds it gone
            if not page.items:
                break
            collected.extend(page.items)
            through = max(through, *(m.id for m in page.items))
            if len(page.items) < self._settings.messages_page_size:
                break
            if self._budget.exhausted():
                return collected, through, True
        return collected, through, False
