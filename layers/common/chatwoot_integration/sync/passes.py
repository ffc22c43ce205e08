"""Steps 2 to 4 of a sync: conversations (incremental window or full pass), contacts, message catch-up, deletions.

A batch of conversations (a page of the full pass, a chunk of the incremental answer) is first compared with the
mirror in one statement. What changed is then written in one transaction: the changed contacts in one statement,
the changed conversations in one guarded upsert (with their change events), the messages read for the batch in one
statement, and the bookkeeping (conversations seen, message marks) with the resume state in one statement. A batch
where nothing changed costs that last statement alone. Chatwoot is read before the transaction opens, so a failure
leaves nothing half-written and the resume state never runs ahead of the data.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from ..chatwoot.errors import ChatwootNotFound
from ..chatwoot.models import Conversation, ConversationPage
from ..mapping import conversation_contact, conversation_state, last_message_id
from ..models.change import NewChange
from ..models.conversation import ConversationState, UpsertOutcome
from ..models.integration import Integration
from ..repositories.sync import Bookkeeping, Held, Incoming
from ..services.mirror import mirror_conversations
from ..uow import UnitOfWork, UnitOfWorkFactory
from .budget import Budget, DeadlineReached
from .messages import CaughtUp, MessageCatchUp
from .metered import MeteredClient
from .models import IntegrationSyncReport, SyncProgress, SyncSettings

ACTOR = "sync"
_MAX_ERROR_CHARS = 500


class LeaseLost(Exception):
    """Another run took the integration's lease (this one outlived it): stop without writing more."""


@dataclass
class _Batch:
    """A batch of conversations mapped for the mirror, before anything is written."""

    incoming: list[Incoming]
    states: list[ConversationState]
    failures: list[tuple[int, str]]
    newest_message: dict[int, int]


class ConversationPass:
    """Runs one integration's conversation pass; ``progress`` is always the state to resume from."""

    def __init__(
        self,
        *,
        unit_of_work: UnitOfWorkFactory,
        integration: Integration,
        client: MeteredClient,
        budget: Budget,
        settings: SyncSettings,
        report: IntegrationSyncReport,
        owner: str,
        lease_until: Callable[[], datetime],
        clock: Callable[[], datetime],
        progress: SyncProgress,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._integration = integration
        self._integration_id = integration.id
        self._client = client
        self._budget = budget
        self._settings = settings
        self._report = report
        self._owner = owner
        self._lease_until = lease_until
        self._clock = clock
        self.progress = progress
        self._catch_up = MessageCatchUp(
            client=client,
            budget=budget,
            settings=settings,
            integration_id=integration.id,
            store_content=integration.store_message_content,
        )

    # Passes -------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Work on the pass until it completes; raises ``DeadlineReached`` when cut (``progress`` says where)."""
        if self.progress.mode == "full":
            self._full_pass()
        else:
            self._incremental()

    def _incremental(self) -> None:
        window_start = self.progress.window_start
        assert window_start is not None, "an incremental pass counts from a cursor"
        self._budget.check()
        elapsed = (self._clock() - window_start).total_seconds()
        window = max(1, math.ceil(elapsed + self._settings.overlap_seconds))
        answer = self._client.conversations_updated_within(window)
        self._report.pages += 1
        for chunk in _chunks(answer.items, self._settings.chunk_size):
            self._budget.check()
            self._write(chunk, resume=None)

    def _full_pass(self) -> None:
        """Page by page, oldest conversation first. The next pages are requested while the current one is
        written (``read_ahead_pages`` of them, never past the count Chatwoot gave), so the mapping and the
        database work hide behind Chatwoot's answer time."""
        depth = self._settings.read_ahead_pages
        with ThreadPoolExecutor(max_workers=max(1, depth), thread_name_prefix="sync-read-ahead") as reader:
            ahead: deque[tuple[int, Future[ConversationPage]]] = deque()
            while self.progress.phase == "pages":
                self._budget.check()
                page_number = self.progress.next_page
                if ahead and ahead[0][0] == page_number:
                    page = ahead.popleft()[1].result()
                else:
                    page = self._client.conversations_page(page_number)
                self._report.pages += 1
                items = page.items
                page_size = max(self.progress.page_size or 0, len(items)) or None
                # Chatwoot's page size is an installation setting: a short page, or the count reached, is the end.
                last = (
                    not items
                    or page_size is None
                    or len(items) < page_size
                    or page_number * page_size >= page.meta.all_count
                )
                if not last and page_size is not None:
                    final_page = -(-page.meta.all_count // page_size)
                    following_page = ahead[-1][0] + 1 if ahead else page_number + 1
                    while len(ahead) < depth and following_page <= final_page and not self._budget.exhausted():
                        ahead.append((following_page, reader.submit(self._client.conversations_page, following_page)))
                        following_page += 1
                following = self.progress.model_copy(
                    update={
                        "next_page": page_number + 1,
                        "page_size": page_size,
                        "phase": "deletions" if last else "pages",
                    }
                )
                if items:
                    self._write(items, resume=following)
                else:
                    self._save(following)
                self.progress = following
        self._finish_deletions()

    def _finish_deletions(self) -> None:
        """Every page was read: conversations the pass did not confirm are checked one by one, and those Chatwoot
        no longer has are soft-deleted. Offset pages shift when a conversation before them is deleted mid-pass,
        so "not seen" alone is not proof; the check also keeps a webhook's concurrent write safe."""
        started = self.progress.db_started_at
        assert started is not None, "a full pass records its start on the database clock"
        alive: list[int] = []
        while True:
            self._budget.check()
            with self._unit_of_work(read_only=True) as uow:
                candidates = uow.sync.deletion_candidates(
                    self._integration_id, started, exclude=alive, limit=self._settings.deletion_batch
                )
            if not candidates:
                return
            found, gone, cut = self._check_candidates(candidates)
            # Found alive: never asked about again in this run, even if the write below cannot confirm it (a
            # conversation that cannot be mapped, or one the mirror already holds in a newer version).
            alive.extend(c.id for c in found)
            if found:
                self._write(found, resume=None)
            self._delete(gone, started)
            if cut:
                raise DeadlineReached

    def _check_candidates(self, candidates: Sequence[int]) -> tuple[list[Conversation], list[int], bool]:
        found: list[Conversation] = []
        gone: list[int] = []
        for conversation_id in candidates:
            if self._budget.exhausted():
                return found, gone, True
            try:
                found.append(self._client.get_conversation(conversation_id))
            except ChatwootNotFound:
                gone.append(conversation_id)
        return found, gone, False

    def _delete(self, conversation_ids: Sequence[int], started: datetime) -> None:
        if not conversation_ids:
            return
        with self._unit_of_work() as uow:
            deleted = uow.sync.soft_delete_unconfirmed(self._integration_id, conversation_ids, started)
            uow.changes.append(
                [
                    NewChange(
                        integration_id=self._integration_id,
                        type="conversation.deleted",
                        actor=ACTOR,
                        conversation_id=conversation_id,
                        data={"reason": "not found in Chatwoot"},
                    )
                    for conversation_id in deleted
                ]
            )
        self._report.conversations_deleted += len(deleted)

    # One batch ----------------------------------------------------------------------------------------

    def _write(self, conversations: Sequence[Conversation], *, resume: SyncProgress | None) -> None:
        """Write a batch; with ``resume``, store it as the resume state in the same transaction. Raises
        ``DeadlineReached`` after writing when the message catch-up had to stop early (``resume`` not stored).

        Conversations and contacts the mirror already holds exactly as Chatwoot shows them are not rewritten:
        they are only marked seen, which is all a full pass needs to know that they still exist. A batch with
        nothing to write costs one unit of work of one statement.
        """
        batch = self._map(conversations)
        held = self._compare(batch.incoming)
        messages = self._read_messages(batch, held)
        changed = [state for state in batch.states if not held[state.conversation_id].same_state]
        contacts = {
            item.contact.contact_id: item.contact
            for item in batch.incoming
            if item.contact is not None and item.state is not None and not held[item.conversation_id].same_contact
        }
        bookkeeping = Bookkeeping(
            integration_id=self._integration.id,
            owner=self._owner,
            lease_until=self._lease_until(),
            seen=[item.conversation_id for item in batch.incoming if held[item.conversation_id].deleted_by != "api"],
            through=messages.through,
            progress=resume.model_dump_json() if resume is not None and not messages.cut else None,
        )
        contacts_written, inserted = 0, 0
        outcomes: list[UpsertOutcome] = []
        with self._unit_of_work() as uow:
            if changed or contacts or batch.failures or messages.rows:
                contacts_written = uow.parties.upsert_contacts(list(contacts.values()))
                outcomes = mirror_conversations(uow, changed, actor=ACTOR, mark_synced=True) if changed else []
                self._mark_failures(uow, batch.failures)
                inserted = len(uow.messages.insert_new(messages.rows))
            saved = uow.sync.record(bookkeeping)
            if not saved:
                # Nothing of the batch may stay: another run owns the integration now.
                raise LeaseLost(self._lease_lost())
        self._count(batch, held, outcomes, contacts_written, inserted)
        if changed:
            self._report.upsert_round_trips += 1
        if messages.cut:
            raise DeadlineReached

    def _lease_lost(self) -> str:
        return f"integration {self._integration.id}: the sync lease was taken by another run"

    def _map(self, conversations: Sequence[Conversation]) -> _Batch:
        batch = _Batch(incoming=[], states=[], failures=[], newest_message={})
        for conversation in conversations:
            contact = conversation_contact(self._integration_id, conversation)
            state: ConversationState | None
            try:
                state = conversation_state(self._integration_id, conversation)
            except (ValueError, ValidationError) as exc:
                state = None
                batch.failures.append((conversation.id, _mapping_error(exc)))
            batch.incoming.append(Incoming(conversation.id, state, contact))
            if state is None:
                continue
            batch.states.append(state)
            newest = last_message_id(conversation)
            if newest is not None:
                batch.newest_message[conversation.id] = newest
        return batch

    def _compare(self, incoming: list[Incoming]) -> dict[int, Held]:
        # A read-only unit of work before the batch's own, because Chatwoot's messages are read in between. A webhook
        # writing in between is harmless: the guarded upsert still decides, messages are inserted once whatever
        # happens, and a skipped rewrite only means that the webhook's version, at least as new, stays.
        with self._unit_of_work(read_only=True) as uow:
            return uow.sync.compare(self._integration_id, incoming)

    def _read_messages(self, batch: _Batch, held: dict[int, Held]) -> CaughtUp:
        """The conversations whose newest message is past the sync's mark, caught up (see ``messages``)."""
        wanted: list[tuple[int, int]] = []
        for conversation_id, newest in batch.newest_message.items():
            mark = held[conversation_id]
            if mark.deleted_by == "api":
                continue  # removed from the mirror on purpose: it stays out, messages included
            after = mark.messages_synced_through or 0
            if newest > after:
                wanted.append((conversation_id, after))
        return self._catch_up.read(wanted)

    def _mark_failures(self, uow: UnitOfWork, failures: Sequence[tuple[int, str]]) -> None:
        if not failures:
            return
        repo = uow.conversations
        # A sync error can only follow syncing (the database refuses anything else).
        repo.set_sync_status(self._integration_id, [cid for cid, _ in failures], "syncing")
        for conversation_id, error in failures:
            repo.set_sync_status(self._integration_id, [conversation_id], "error", error=error)

    def _save(self, progress: SyncProgress) -> None:
        with self._unit_of_work() as uow:
            saved = uow.sync.save_progress(
                self._integration.id, self._owner, progress.model_dump_json(), self._lease_until()
            )
        if not saved:
            raise LeaseLost(f"integration {self._integration.id}: the sync lease was taken by another run")

    def _count(
        self,
        batch: _Batch,
        held: dict[int, Held],
        outcomes: Sequence[UpsertOutcome],
        contacts_written: int,
        messages_inserted: int,
    ) -> None:
        report = self._report
        report.conversations_seen += len(batch.incoming)
        for state in batch.states:
            mark = held[state.conversation_id]
            if not mark.stored:
                report.conversations_created += 1
                report.conversations_written += 1
            elif mark.deleted_by != "api" and (
                mark.chatwoot_updated_at is None or state.chatwoot_updated_at > mark.chatwoot_updated_at
            ):
                report.conversations_written += 1
        report.conversations_restored += sum(1 for o in outcomes if _restored(o))
        report.conversations_failed += len(batch.failures)
        report.contacts_written += contacts_written
        report.messages_inserted += messages_inserted


def _restored(outcome: UpsertOutcome) -> bool:
    previous, current = outcome.previous or {}, outcome.current or {}
    return bool(previous.get("deleted")) and not current.get("deleted")


def _mapping_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        errors = exc.errors()
        where = ".".join(str(part) for part in errors[0]["loc"]) if errors else ""
        text = f"cannot map Chatwoot's conversation: {where}: {errors[0]['msg'] if errors else 'invalid'}"
    else:
        text = f"cannot map Chatwoot's conversation: {exc}"
    return text[:_MAX_ERROR_CHARS]


def _chunks(items: Sequence[Conversation], size: int) -> Iterator[Sequence[Conversation]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
