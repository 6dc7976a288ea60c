"""A partner's course hosted at a library (the SeniorWeb model): the library's staff tick off the tasks of what their
library brings to it (room booked, promotion done, participants recruited), or take one back; each with who and when."""

from __future__ import annotations

from services.courses import store
from services.courses.queries import offer as queries
from services.courses.store import offer as offer_store
from shared.contracts.courses.api.courses import CheckCourseTask, CourseView
from shared.errors import InvalidInput, NotFound
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork


async def check_course_task(work: UnitOfWork, actor: Actor, command: CheckCourseTask) -> CourseView:
    async with work.transaction() as tx:
        row = await store.find_course(tx.session, command.course_id, for_update=True)
        # Only the hosting library's own staff: anyone else's course is not theirs to see here.
        if row is None or row.library is None or row.library != actor.library:
            raise NotFound(f"course {command.course_id} not found")
        now = tx.clock.now()
        # What the library brings comes from its partnership with the course's partner, as it is now.
        current = await queries.load_course_view(tx.session, row.id, now)
        if command.task not in {task.task for task in current.library_tasks}:
            raise InvalidInput(f"the library brings nothing to course {row.id} that needs {command.task.value}")
        tasks = dict(row.library_tasks or {})
        if command.done:
            tasks[command.task.value] = {"done_at": now.isoformat(), "done_by": actor.subject}
        else:
            tasks.pop(command.task.value, None)
        await offer_store.update_course(tx.session, row.id, library_tasks=tasks, updated_at=now)
        return await queries.load_course_view(tx.session, row.id, now)
