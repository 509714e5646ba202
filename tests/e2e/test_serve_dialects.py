"""Issue 5: `wsflow serve --dialect NAME` speaks each real backend's protocol (docs/dialects.md),
quirks included. Raw clients (python3-websockets) check the frames, the terminal frames, the
controls and the quirks of every dialect."""
import asyncio
import json
import re
import time
import urllib.error
import urllib.request

import websockets

from wsflow_e2e import Server, wsflow

FAST = {"delay_ms": 5}


def run(coro, timeout=30):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def recv(ws, timeout=5.0):
    """The next frame as JSON (a frame that is not JSON fails the test)."""
    text = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(text, str), text
    return json.loads(text)


async def until(ws, pred, timeout=10.0, skip=lambda f: False):
    """Frames up to and including the first for which pred() is true."""
    out = []
    deadline = time.monotonic() + timeout
    while True:
        f = await recv(ws, max(0.01, deadline - time.monotonic()))
        if skip(f):
            continue
        out.append(f)
        if pred(f):
            return out


async def quiet_for(ws, seconds, skip=lambda f: False):
    """Frames received within `seconds` (the socket stays open)."""
    out = []
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return out
        try:
            f = await recv(ws, left)
        except asyncio.TimeoutError:
            return out
        if not skip(f):
            out.append(f)


async def rest_until_closed(ws, timeout=10.0):
    """The frames left, then the close code and reason the client saw."""
    out = []
    try:
        while True:
            out.append(json.loads(await asyncio.wait_for(ws.recv(), timeout)))
    except websockets.ConnectionClosed:
        pass
    return out, ws.close_code, ws.close_reason


NAIVE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$")


# ---------------------------------------------------------------------------------------------
# cmbagent (MARS)

def mars_type(f):
    return f["event_type"]


def is_heartbeat(f):
    return f.get("event_type") == "heartbeat"


def test_cmbagent_demo_run_shapes_approvals_and_close():
    with Server("--dialect", "cmbagent") as s:
        async def go():
            async with websockets.connect(s.url + "/ws/task-1") as ws:
                await ws.send(json.dumps({"task": "write a report", "config": dict(FAST, mode="one-shot")}))
                frames = await until(ws, lambda f: f["event_type"] == "approval_requested", skip=is_heartbeat)
                approval = frames[-1]["data"]
                await ws.send(json.dumps({"type": "resolve_approval", "approval_id": "nope", "resolution": "approve",
                                          "feedback": "", "modifications": ""}))
                err = await until(ws, lambda f: f["event_type"] == "error", skip=is_heartbeat)
                assert err[-1]["data"]["message"] == "Approval nope not found or already resolved"
                await ws.send(json.dumps({"type": "approval_response", "approval_id": approval["approval_id"],
                                          "approved": True, "feedback": "fine"}))
                rest, code, reason = await rest_until_closed(ws)
                return frames + err + rest, code

        frames, code = run(go())
        frames = [f for f in frames if not is_heartbeat(f)]
        types = [f["event_type"] for f in frames]
        assert code == 1000
        assert types[-2:] == ["workflow_completed", "complete"], types
        assert "step_start" in types and "step_complete" in types
        assert "step_started" not in types and "step_completed" not in types
        assert all("seq" not in f for f in frames)
        uuid_frames = [f for f in frames if f["event_type"] in ("workflow_started", "dag_created", "workflow_completed")]
        uuids = {f["run_id"] for f in uuid_frames}
        assert len(uuids) == 1 and re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
                                            next(iter(uuids))), uuids
        assert all(f["run_id"] == "task-1" for f in frames if f not in uuid_frames)
        received = [f for f in frames if f["event_type"] == "approval_received"][0]
        assert received["data"]["resolution"] == "approved" and received["data"]["approved"] is True
        # the connection manager's frames: +00:00 and "session_id":null; the executor's: Z, no session_id
        assert received["timestamp"].endswith("+00:00") and received["session_id"] is None
        executor = [f for f in frames if f["event_type"] != "approval_received"]
        assert all(f["timestamp"].endswith("Z") and "session_id" not in f for f in executor)
        assert list(frames[0].keys()) == ["event_type", "timestamp", "run_id", "data"]


def test_cmbagent_strict_loses_an_answer_that_comes_too_soon():
    # MARS's executor begins to wait for an answer only after it sent approval_requested: an answer
    # before then is acknowledged, removes the request, and the run fails (backends.md).
    with Server("--dialect", "cmbagent", "--mars-strict", "--heartbeat-interval", "0") as s:
        async def go(answer_after):
            async with websockets.connect(s.url + "/ws/task-race") as ws:
                await ws.send(json.dumps({"task": "t", "config": FAST}))
                frames = await until(ws, lambda f: f["event_type"] == "approval_requested")
                asked = time.monotonic()
                await asyncio.sleep(answer_after)  # the behaviour under test is a wait
                await ws.send(json.dumps({"type": "resolve_approval", "approval_id": "approval-s3",
                                          "resolution": "approve", "feedback": "", "modifications": ""}))
                rest, code, _ = await rest_until_closed(ws)
                return frames, rest, time.monotonic() - asked, code

        _, rest, elapsed, code = run(go(0))
        types = [f["event_type"] for f in rest]
        assert types == ["approval_received", "dag_node_status_changed", "workflow_failed", "workflow_failed",
                         "error"], types
        assert rest[0]["data"]["resolution"] == "approve" and rest[0]["data"]["approved"] is False
        assert rest[1]["data"]["node_id"] == "s3" and rest[1]["data"]["new_status"] == "failed"
        assert rest[2]["data"]["message"] == "Approval approval-s3 not found"
        assert elapsed >= 0.45 and code == 1000, elapsed  # the failure comes when the wait begins (500 ms)
        _, rest, _, code = run(go(0.7))  # after the window: the run goes on, and "approve" still says false
        types = [f["event_type"] for f in rest]
        assert types[0] == "approval_received" and rest[0]["data"]["approved"] is False
        assert types[-2:] == ["workflow_completed", "complete"] and code == 1000, types
    with Server("--dialect", "cmbagent", "--mars-strict", "--mars-answer-window", "0") as s:
        _, rest, _, _ = run(go(0))
        assert [f["event_type"] for f in rest if f["event_type"] != "heartbeat"][-1] == "complete"


def test_cmbagent_session_id_and_legacy_approved_answer():
    with Server("--dialect", "cmbagent") as s:
        async def go():
            async with websockets.connect(s.url + "/ws/task-2") as ws:
                await ws.send(json.dumps({"task": "t", "config": dict(FAST, session_id="sess-9")}))
                frames = await until(ws, lambda f: f["event_type"] == "approval_requested", skip=is_heartbeat)
                await ws.send(json.dumps({"approved": True}))  # the legacy answer: no type, no approval_id
                rest, code, _ = await rest_until_closed(ws)
                return frames + rest, code

        frames, code = run(go())
        assert code == 1000
        assert all(f["session_id"] == "sess-9" for f in frames if f["timestamp"].endswith("Z"))
        received = [f for f in frames if f["event_type"] == "approval_received"][0]
        assert received["data"]["resolution"] == "approved" and received["session_id"] is None


def test_cmbagent_failing_run_sends_failed_twice_then_error_then_closes():
    with Server("--dialect", "cmbagent") as s:
        async def go():
            async with websockets.connect(s.url + "/ws/task-f") as ws:
                await ws.send(json.dumps({"task": "t", "config": {"scenario": "fail", "delay_ms": 5}}))
                return await rest_until_closed(ws)

        frames, code, _ = run(go())
        types = [f["event_type"] for f in frames if not is_heartbeat(f)]
        assert types[-3:] == ["workflow_failed", "workflow_failed", "error"], types
        assert types.count("workflow_failed") == 2
        assert code == 1000


def test_cmbagent_heartbeat_ping_pause_resume_cancel():
    with Server("--dialect", "cmbagent", "--heartbeat-interval", "100ms") as s:
        async def go():
            async with websockets.connect(s.url + "/ws/task-c") as ws:
                await ws.send(json.dumps({"task": "t", "config": {"scenario": "long", "events": 400, "delay_ms": 20}}))
                beats = await until(ws, is_heartbeat)
                beats += await until(ws, is_heartbeat)
                hb = [f for f in beats if is_heartbeat(f)]
                assert hb and all(set(f["data"]) == {"timestamp"} and f["run_id"] == "task-c" for f in hb)
                await ws.send(json.dumps({"type": "ping", "run_id": "ignored"}))
                pong = await until(ws, lambda f: f["event_type"] == "pong")
                assert pong[-1]["session_id"] is None and pong[-1]["timestamp"].endswith("+00:00")
                await ws.send(json.dumps({"type": "pause"}))
                paused = await until(ws, lambda f: f["event_type"] == "workflow_paused")
                assert paused[-1]["data"]["status"] == "paused"
                idle = await quiet_for(ws, 0.5)
                assert idle == [], idle  # no events and no heartbeat while paused
                await ws.send(json.dumps({"type": "resume"}))
                await until(ws, lambda f: f["event_type"] == "workflow_resumed")
                await until(ws, is_heartbeat)  # heartbeats again
                await ws.send(json.dumps({"type": "cancel"}))
                t0 = time.monotonic()
                rest, code, _ = await rest_until_closed(ws)
                return rest, code, time.monotonic() - t0

        rest, code, took = run(go())
        types = [f["event_type"] for f in rest if f["event_type"] not in ("heartbeat", "step_progress")]
        assert types == ["workflow_failed", "workflow_cancelled"], types
        failed = [f for f in rest if f["event_type"] == "workflow_failed"][0]
        assert failed["data"]["status"] == "cancelled"
        assert code == 1000 and took < 3


def test_cmbagent_first_frame_errors_and_ignored_frames():
    with Server("--dialect", "cmbagent") as s:
        async def no_task():
            async with websockets.connect(s.url + "/ws/new-task") as ws:
                await ws.send(json.dumps({"config": {"mode": "one-shot"}}))
                return await rest_until_closed(ws)

        frames, code, _ = run(no_task())
        assert [f["event_type"] for f in frames] == ["error"] and frames[0]["data"]["message"] == "No task provided"
        assert code == 1000

        async def not_json():
            async with websockets.connect(s.url + "/ws/new-task-2") as ws:
                await ws.send("this is not json")
                return await rest_until_closed(ws)

        frames, code, _ = run(not_json())
        assert len(frames) == 1 and frames[0]["data"]["message"].startswith("Execution error: "), frames
        assert code == 1000

        async def ignored():
            async with websockets.connect(s.url + "/ws/task-i") as ws:
                await ws.send(json.dumps({"task": "t", "config": {"delay_ms": 40}}))
                await until(ws, lambda f: f["event_type"] == "step_start")
                for junk in ("{nope", json.dumps({"type": "frobnicate"}), json.dumps({"task": "again"}), "[1]"):
                    await ws.send(junk)
                await ws.send(json.dumps({"type": "ping"}))
                frames = await until(ws, lambda f: f["event_type"] == "pong")
                await ws.send(json.dumps({"type": "cancel"}))
                rest, code, _ = await rest_until_closed(ws)
                return frames + rest, code

        frames, code = run(ignored())
        types = [f["event_type"] for f in frames]
        assert "error" not in types and "workflow_started" not in types, types
        assert code == 1000


def test_cmbagent_reconnection_closes_old_socket_and_request_state_replays():
    with Server("--dialect", "cmbagent") as s:
        async def go():
            a = await websockets.connect(s.url + "/ws/task-r")
            await a.send(json.dumps({"task": "t", "config": {"delay_ms": 30}}))
            seen = await until(a, lambda f: f["event_type"] == "step_progress", skip=is_heartbeat)
            since = time.time() - 60
            b = await websockets.connect(s.url + "/ws/task-r")
            rest_a, code_a, reason_a = await rest_until_closed(a)
            await b.send(json.dumps({"type": "request_state", "since": since}))
            state = await recv(b)
            replay = await until(b, lambda f: f["event_type"] == "step_progress" and f["data"]["step_number"] == 1,
                                 skip=is_heartbeat)
            # since in milliseconds (a client's old mistake) is in the future: the state only
            await b.send(json.dumps({"type": "request_state", "since": since * 1000}))
            state2 = await until(b, lambda f: f["event_type"] == "workflow_state_changed", skip=is_heartbeat)
            after = await quiet_for(b, 0.1, skip=is_heartbeat)
            await b.send(json.dumps({"type": "cancel"}))
            tail, code_b, _ = await rest_until_closed(b)
            return seen + rest_a, code_a, reason_a, state, replay, state2, after, tail, code_b

        seen_a, code_a, reason_a, state, replay, state2, after, tail, code_b = run(go())
        assert (code_a, reason_a) == (1000, "Reconnection")
        assert state["event_type"] == "workflow_state_changed" and state["session_id"] is None
        assert state["data"]["status"] == "executing" and "message" in state["data"]
        # the replay is what the first socket saw, frame for frame
        assert replay == [f for f in seen_a if not is_heartbeat(f)][:len(replay)]
        assert replay[0]["event_type"] == "workflow_started"
        assert all(f["event_type"] != "workflow_started" for f in after)
        assert tail[-1]["event_type"] == "workflow_cancelled" and code_b == 1000


def test_cmbagent_strict_refuses_resume_and_orphans_new_socket():
    with Server("--dialect", "cmbagent", "--mars-strict", "--heartbeat-interval", "50ms") as s:
        async def go():
            a = await websockets.connect(s.url + "/ws/task-s")
            await a.send(json.dumps({"task": "t", "config": {"delay_ms": 30}}))
            first = await until(a, lambda f: f["event_type"] == "step_start")
            # request_state: the state frame only, no replay
            await a.send(json.dumps({"type": "request_state", "since": 0}))
            state = await until(a, lambda f: f["event_type"] == "workflow_state_changed")
            after = await quiet_for(a, 0.2, skip=is_heartbeat)
            texts = {json.dumps(f, sort_keys=True) for f in first}
            assert not any(json.dumps(f, sort_keys=True) in texts for f in after), after
            # a reconnect whose first frame is not a task: "No task provided" and close
            b = await websockets.connect(s.url + "/ws/task-s")
            _, code_a, reason_a = await rest_until_closed(a)
            await b.send(json.dumps({"type": "request_state", "since": 0}))
            b_frames, code_b, _ = await rest_until_closed(b)
            # a task frame on the same task_id starts a new run ...
            c = await websockets.connect(s.url + "/ws/task-s")
            await c.send(json.dumps({"task": "t", "config": {"scenario": "long", "events": 200, "delay_ms": 20}}))
            c_first = await until(c, lambda f: f["event_type"] == "workflow_started")
            d = await websockets.connect(s.url + "/ws/task-s")  # ... and a second socket orphans the newest
            await d.send(json.dumps({"task": "t", "config": {"scenario": "long", "events": 200, "delay_ms": 20}}))
            d_first = await until(d, lambda f: f["event_type"] == "step_start", skip=is_heartbeat)
            _, code_c, reason_c = await rest_until_closed(c)
            await d.send(json.dumps({"type": "ping"}))
            await d.send(json.dumps({"type": "pause"}))
            in_flight = await quiet_for(d, 0.25)  # events sent before the pause took effect
            assert all(f["event_type"] in ("step_progress", "heartbeat") for f in in_flight), in_flight
            unanswered = await quiet_for(d, 0.4)
            await d.send(json.dumps({"type": "resume"}))
            await d.send(json.dumps({"type": "request_state", "since": 0}))
            await d.send(json.dumps({"type": "cancel"}))
            d_rest, code_d, _ = await rest_until_closed(d)
            return (state, code_a, reason_a, b_frames, code_b, first, c_first, d_first, code_c, reason_c, unanswered,
                    d_rest, code_d)

        (state, code_a, reason_a, b_frames, code_b, first, c_first, d_first, code_c, reason_c, unanswered, d_rest,
         code_d) = run(go(), 60)
        assert state[-1]["data"]["status"] == "executing"
        assert (code_a, reason_a) == (1000, "Reconnection")
        assert [f["data"]["message"] for f in b_frames] == ["No task provided"] and code_b == 1000
        old_uuid = [f for f in first if f["event_type"] == "workflow_started"][0]["run_id"]
        new_uuid = c_first[-1]["run_id"]
        assert new_uuid != old_uuid and len(new_uuid) == 36
        assert (code_c, reason_c) == (1000, "Reconnection")
        # the orphaned socket: pause happens (no events, no heartbeat) but nothing answers it
        assert unanswered == [], unanswered
        types = [f["event_type"] for f in d_rest]
        for lost in ("pong", "workflow_paused", "workflow_resumed", "workflow_state_changed", "workflow_failed",
                     "workflow_cancelled"):
            assert lost not in types, (lost, types)
        assert code_d == 1000


# ---------------------------------------------------------------------------------------------
# ryx

def test_ryx_implemented_frames_and_cancel_acknowledged_after_complete():
    with Server("--dialect", "ryx") as s:
        async def go():
            async with websockets.connect(s.url + "/api/workflow/stream") as ws:
                await ws.send(json.dumps({"action": "execute_workflow", "input": "summarise", "model": "m-1",
                                          "config": {"delay_ms": 10}}))
                await ws.send(json.dumps({"action": "cancel_workflow"}))  # waits: one frame at a time
                frames = await until(ws, lambda f: f["type"] == "acknowledged")
                await ws.send("{bad json")
                bad = await recv(ws)
                await ws.send(b"\x00\x01")
                binary = await recv(ws)
                await ws.send(json.dumps({"type": "execute_workflow", "input": "again", "delay_ms": 1}))
                second = await until(ws, lambda f: f["type"] == "task_complete")
                idle = await quiet_for(ws, 0.3)  # the server never closes by itself
                await ws.send("[1]")
                rest, code, _ = await rest_until_closed(ws)
                return frames, bad, binary, second, idle, rest, code

        frames, bad, binary, second, idle, rest, code = run(go())
        types = [f["type"] for f in frames]
        assert types == ["step_start", "step_complete"] * 5 + ["task_complete", "acknowledged"], types
        starts = [f for f in frames if f["type"] == "step_start"]
        assert [f["step"] for f in starts] == [1, 2, 3, 4, 5]
        assert all(set(f) == {"type", "step", "action", "timestamp"} and NAIVE.match(f["timestamp"]) for f in starts)
        completes = [f for f in frames if f["type"] == "step_complete"]
        assert all(set(f) == {"type", "step", "latency_ms", "result"} and isinstance(f["latency_ms"], int)
                   for f in completes)
        done = frames[-2]
        assert isinstance(done["total_latency_ms"], int) and len(done["results"]) == 5
        assert frames[-1] == {"type": "acknowledged", "data": {"action": "cancel_workflow"}}
        assert bad == binary == {"type": "error", "message": "Invalid JSON data"}
        assert second[-1]["type"] == "task_complete" and idle == []
        assert rest == [] and code == 1006  # a JSON value that is not an object drops the connection


def test_ryx_failing_run_and_documented_shape():
    with Server("--dialect", "ryx") as s:
        async def go():
            async with websockets.connect(s.url + "/api/workflow/stream") as ws:
                await ws.send(json.dumps({"action": "execute_workflow", "input": "x", "scenario": "fail",
                                          "delay_ms": 5}))
                return await until(ws, lambda f: f["type"] in ("error", "task_complete"))

        frames = run(go())
        assert frames[-1]["type"] == "error" and frames[-1]["message"]
    with Server("--dialect", "ryx", "--ryx-documented") as s:
        async def go2():
            async with websockets.connect(s.url + "/api/workflow/stream") as ws:
                await ws.send(json.dumps({"action": "execute_workflow", "input": "x", "config": FAST}))
                frames = await until(ws, lambda f: f.get("event") in ("workflow_complete", "error"))
                await ws.send(json.dumps({"hello": 1}))
                frames.append(await recv(ws))
                return frames

        frames = run(go2())
        assert all("event" in f and "type" not in f for f in frames)
        events = [f["event"] for f in frames]
        assert events[0] == "step_start" and "tool_call" in events and events[-2] == "workflow_complete", events
        assert all(set(f) == {"event", "step", "node", "message", "latency", "data"} for f in frames[:-1])
        assert frames[-1] == {"event": "acknowledged", "data": {"hello": 1}}


# ---------------------------------------------------------------------------------------------
# a2a

def test_a2a_info_progress_replay_and_coordinator_not_available():
    with Server("--dialect", "a2a") as s:
        async def go():
            async with websockets.connect(s.url + "/ws/workflow/wf-1?delay_ms=10&client_id=me-1") as ws:
                info = await recv(ws)
                first = await until(ws, lambda f: f.get("state") == "running")
                await ws.send(json.dumps({"type": "control", "action": "cancel", "workflow_id": "wf-1"}))
                refused = await until(ws, lambda f: f["type"] == "error")
                await ws.send(json.dumps({"type": "ping"}))
                await ws.send("not json")
                rest = await until(ws, lambda f: f.get("state") in ("completed", "failed"))
                idle = await quiet_for(ws, 0.2)  # the server never closes the socket
            async with websockets.connect(s.url + "/ws/workflow/wf-1") as again:
                info2 = await recv(again)
                replayed = await quiet_for(again, 0.3)
                await again.send(b"\x01")  # a binary frame ends the handler: close 1000, no frame
                after, code, _ = await rest_until_closed(again)
            return info, first, refused, rest, idle, info2, replayed, after, code

        info, first, refused, rest, idle, info2, replayed, after, code = run(go())
        assert set(info) == {"type", "message", "client_id", "room", "timestamp"} and info["type"] == "info"
        assert info["client_id"] == "me-1" and "wf-1" in info["room"] and NAIVE.match(info["timestamp"])
        assert info2["client_id"] != "me-1"
        progress = [f for f in first + refused + rest if f["type"] == "progress"]
        assert all(set(f) == {"type", "workflow_id", "timestamp", "state", "progress", "stage", "message", "details"}
                   for f in progress)
        assert all(0 <= f["progress"] <= 1 and NAIVE.match(f["timestamp"]) for f in progress)
        assert progress[0]["state"] == "pending" and progress[-1]["state"] == "completed"
        assert refused[-1] == {"type": "error", "message": "Coordinator not available"}
        others = [f for f in rest if f["type"] != "progress"]
        assert {"type": "pong"} in others and {"type": "error", "message": "Invalid JSON format"} in others
        assert idle == []
        # every connect replays the workflow's buffered frames (here all of them: fewer than 50)
        assert replayed == progress and after == [] and code == 1000


def test_a2a_with_coordinator_controls_and_buffer_cap():
    with Server("--dialect", "a2a", "--a2a-coordinator") as s:
        async def go():
            async with websockets.connect(s.url + "/ws/workflow/wf-2?scenario=long&events=500&delay_ms=5") as ws:
                info = await recv(ws)
                status = await recv(ws)
                await until(ws, lambda f: f.get("state") == "running")
                await ws.send(json.dumps({"type": "control", "action": "pause", "workflow_id": "wf-2"}))
                paused = await until(ws, lambda f: f["type"] != "progress")
                await ws.send(json.dumps({"type": "control", "action": "rewind", "workflow_id": "wf-2"}))
                unknown = await until(ws, lambda f: f["type"] != "progress")
                await until(ws, lambda f: f.get("progress", 0) > 0.2)
                await ws.send(json.dumps({"type": "control", "action": "cancel", "workflow_id": "wf-2"}))
                cancelled = await until(ws, lambda f: f.get("state") == "failed")
            async with websockets.connect(s.url + "/ws/coordinator") as coord:
                cinfo = await recv(coord)
                await coord.send(json.dumps({"type": "get_metrics"}))
                metrics = await recv(coord)
            async with websockets.connect(s.url + "/ws/workflow/wf-2") as late:
                await recv(late)
                await recv(late)
                replayed = await quiet_for(late, 0.3)
                await late.send("[1,2]")
                _, code, _ = await rest_until_closed(late)
            return info, status, paused, unknown, cancelled, cinfo, metrics, replayed, code

        info, status, paused, unknown, cancelled, cinfo, metrics, replayed, code = run(go())
        assert info["type"] == "info" and status["type"] == "status" and status["workflow_id"] == "wf-2"
        assert paused[-1]["type"] == "control_response" and paused[-1]["status"] == "not_implemented"
        assert unknown[-1] == {"type": "error", "message": "Unknown action: rewind"}
        non_progress = [f for f in cancelled if f["type"] != "progress"]
        assert non_progress == [{"type": "control_response", "action": "cancel", "status": "success",
                                 "message": non_progress[0]["message"]}]
        assert cancelled[-1]["stage"] == "cancelled"
        assert cinfo["room"] == "coordinator" and metrics["type"] == "coordinator_metrics"
        assert metrics["total_workflows"] == 1
        assert len(replayed) == 50 and replayed[-1]["stage"] == "cancelled"  # the buffer keeps 50
        assert code == 1000


def test_a2a_failure_error_frame_and_heartbeat():
    with Server("--dialect", "a2a", "--heartbeat-interval", "100ms") as s:
        async def go():
            async with websockets.connect(s.url + "/ws/workflow/wf-3?scenario=fail&delay_ms=40") as ws:
                frames = await until(ws, lambda f: f.get("state") == "failed")
                beats = await until(ws, lambda f: f["type"] == "heartbeat", timeout=2)
            async with websockets.connect(s.url + "/ws/agent/planner") as agent:
                ainfo = await recv(agent)
            return frames, beats, ainfo

        frames, beats, ainfo = run(go())
        errors = [f for f in frames if f["type"] == "error"]
        assert len(errors) == 1 and frames[-2] is errors[0]
        e = errors[0]
        assert e["retryable"] is False and e["target_type"] == "workflow" and e["target_id"] == "wf-3"
        assert e["error_type"] and e["message"]
        assert set(beats[-1]) == {"type", "timestamp"} and NAIVE.match(beats[-1]["timestamp"])
        assert [f for f in frames if f["type"] == "heartbeat"], "heartbeats while the run goes on"
        assert ainfo["room"] == "agent:planner"


# ---------------------------------------------------------------------------------------------
# aladdin

ALADDIN_TYPES = {"orchestration-start", "orchestration-complete", "department-start", "department-complete",
                 "agent-start", "agent-thinking", "agent-complete", "tool-call", "tool-result", "quality-check",
                 "review-status", "error"}


def test_aladdin_subscribe_is_answered_with_pong_and_events_flow():
    with Server("--dialect", "aladdin") as s:
        async def go():
            async with websockets.connect(s.url + "/any/path/at/all") as ws:
                hello = await recv(ws)
                await ws.send(json.dumps({"type": "subscribe", "executionId": "ex-1", "delay_ms": 5}))
                ack = await recv(ws)
                frames = await until(ws, lambda f: f["event"]["type"] in ("orchestration-complete", "error"))
                for junk in (json.dumps({"type": "unsubscribe", "executionId": "ex-1"}), json.dumps({"type": "what"}),
                             "{bad", "null"):
                    await ws.send(junk)
                await ws.send(json.dumps({"type": "ping"}))
                pong = await recv(ws)
                await ws.send(json.dumps({"type": "subscribe"}))  # no ids: still a pong
                pong2 = await recv(ws)
                return hello, ack, frames, pong, pong2

        hello, ack, frames, pong, pong2 = run(go())
        assert set(hello) == {"type", "timestamp"} and hello["type"] == "ping"
        assert set(ack) == {"type", "timestamp"} and ack["type"] == "pong"
        assert pong["type"] == pong2["type"] == "pong"
        for f in frames:
            assert set(f) == {"type", "executionId", "event", "timestamp"} and f["type"] == "event"
            assert f["executionId"] == f["event"]["executionId"] == "ex-1"
            assert f["event"]["type"] in ALADDIN_TYPES and f["event"]["timestamp"].endswith("Z")
        kinds = [f["event"]["type"] for f in frames]
        assert kinds[0] == "orchestration-start" and kinds[-1] == "orchestration-complete"
        assert ALADDIN_TYPES - set(kinds) == {"error"}, ALADDIN_TYPES - set(kinds)
        review = [f["event"] for f in frames if f["event"]["type"] == "review-status"][0]
        assert review["decision"] == "approved"
        done = frames[-1]["event"]
        assert "result" in done and "metrics" in done


def test_aladdin_failure_monitor_many_ids_and_no_replay():
    with Server("--dialect", "aladdin") as s:
        async def go():
            monitor = await websockets.connect(s.url + "/")
            await recv(monitor)
            await monitor.send(json.dumps({"type": "subscribe", "executionId": "all"}))
            await recv(monitor)
            ws = await websockets.connect(s.url + "/ws")
            await recv(ws)
            await ws.send(json.dumps({"type": "subscribe", "executionId": "bad-1", "scenario": "fail", "delay_ms": 5}))
            await ws.send(json.dumps({"type": "subscribe", "conversationId": "conv-1", "delay_ms": 5}))
            got, ids, ends, pongs = [], set(), set(), 0
            while len(ends) < 2 or pongs < 2:
                f = await recv(ws)
                got.append(f)
                if f["type"] == "pong":
                    pongs += 1
                    continue
                ids.add(f.get("executionId") or f.get("conversationId"))
                if f["event"]["type"] in ("orchestration-complete", "error"):
                    ends.add(f.get("executionId") or f.get("conversationId"))
            watched = await quiet_for(monitor, 0.3)
            late = await websockets.connect(s.url + "/late")
            await recv(late)
            await late.send(json.dumps({"type": "subscribe", "executionId": "bad-1"}))
            late_frames = await quiet_for(late, 0.3)
            for c in (monitor, ws, late):
                await c.close()
            return got, ids, watched, late_frames

        got, ids, watched, late_frames = run(go())
        assert ids == {"bad-1", "conv-1"}
        bad = [f["event"] for f in got if f.get("executionId") == "bad-1"]
        assert [e["type"] for e in bad[-2:]] == ["tool-result", "error"]
        assert bad[-2]["success"] is False
        assert bad[-1]["error"]["recoverable"] is False and {"message", "code"} <= set(bad[-1]["error"])
        conv = [f for f in got if "conversationId" in f]
        assert conv and all("executionId" not in f and f["event"]["conversationId"] == "conv-1" for f in conv)
        assert len(watched) == len([f for f in got if f["type"] == "event"])  # the monitor saw everything
        assert [f["type"] for f in late_frames] == ["pong"]  # late: nothing from the earlier run


def test_aladdin_plain_http_gets_426():
    with Server("--dialect", "aladdin") as s:
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/whatever" % s.port, timeout=10)
            assert False, "expected an HTTP error"
        except urllib.error.HTTPError as e:
            assert e.code == 426


# ---------------------------------------------------------------------------------------------
# chat

def test_chat_status_tools_message_ping_errors_heartbeat():
    with Server("--dialect", "chat", "--heartbeat-interval", "150ms") as s:
        async def go():
            async with websockets.connect(s.url + "/ws/chat?session_id=sess-1") as ws:
                first = await recv(ws)
                await ws.send(json.dumps({"type": "message", "data": {"content": "hello there", "session_id": "sess-1",
                                                                      "message_history": []}}))
                await ws.send(json.dumps({"type": "ping"}))  # answered at once, not after the reply
                frames = await until(ws, lambda f: f["type"] == "message")
                await ws.send("nope")
                bad = await until(ws, lambda f: f["type"] == "error")
                await ws.send(json.dumps({"type": "message", "data": {"content": ""}}))
                empty = await until(ws, lambda f: f["type"] == "error")
                beat = await until(ws, lambda f: f["type"] == "status", timeout=2)
                await ws.send(json.dumps({"type": "message", "data": {"content": "x", "scenario": "fail",
                                                                      "delay_ms": 5}}))
                failed = await until(ws, lambda f: f["type"] == "error", skip=lambda f: f["type"] == "status")
                return first, frames, bad, empty, beat, failed

        first, frames, bad, empty, beat, failed = run(go())
        assert first["type"] == "status" and first["data"] == {"status": "connected", "session_id": "sess-1"}
        assert "timestamp" in first
        kinds = [f["type"] for f in frames if f["type"] != "status"]
        assert kinds.index("pong") < kinds.index("message")
        tools = [f for f in frames if f["type"] == "tool_execution"]
        assert len(tools) >= 2 and all(set(f["data"]) == {"tool", "status", "details"} for f in tools)
        assert frames[-1]["data"]["role"] == "assistant" and "hello there" in frames[-1]["data"]["content"]
        assert bad[-1]["data"]["message"] and empty[-1]["data"]["message"]
        assert beat[-1]["data"] == {"status": "heartbeat"}
        assert failed[-1]["data"]["message"]
        assert any(f["type"] == "tool_execution" and f["data"]["status"] == "failed" for f in failed)


# ---------------------------------------------------------------------------------------------
# common

def test_dialect_endpoints_404_and_usage():
    for dialect, bad in (("cmbagent", "/api/workflow/stream"), ("ryx", "/ws/t1"), ("a2a", "/ws/t1"),
                         ("chat", "/ws/t1")):
        with Server("--dialect", dialect) as s:
            async def go():
                try:
                    await websockets.connect(s.url + bad)
                except websockets.InvalidStatusCode as e:
                    return e.status_code
                return None

            assert run(go()) == 404, dialect
    for args in (["--dialect", "soap"], ["--heartbeat-interval", "soon"]):
        r = wsflow("serve", "--port", "0", *args)
        assert r.rc == 2 and len(r.err.decode().strip().splitlines()) == 1, r


def test_dialect_runs_survive_a_restart_with_data_dir():
    from wsflow_e2e import tmpdir
    data = tmpdir()
    s = Server("--dialect", "a2a", data_dir=data)

    async def first():
        async with websockets.connect(s.url + "/ws/workflow/keep?scenario=long&events=100&delay_ms=20") as ws:
            await recv(ws)
            return await until(ws, lambda f: f.get("progress", 0) > 0.1)

    seen = run(first())
    s.kill()
    s.start()

    async def again():
        async with websockets.connect(s.url + "/ws/workflow/keep") as ws:
            await recv(ws)
            return await until(ws, lambda f: f.get("state") in ("completed", "failed"), timeout=20)

    rest = run(again())
    s.stop()
    assert rest[-1]["state"] == "completed"
    assert seen[0]["state"] == "pending"


def test_dialect_fixtures_are_ndjson_objects():
    import os
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
    seen = 0
    for dialect in ("cmbagent", "ryx", "a2a", "aladdin", "chat"):
        files = sorted(f for f in os.listdir(os.path.join(root, dialect)) if f.endswith(".ndjson"))
        assert files, dialect
        for name in files:
            with open(os.path.join(root, dialect, name)) as f:
                text = f.read()
            assert text.endswith("\n"), name
            for i, line in enumerate(text.splitlines(), 1):
                assert isinstance(json.loads(line), dict), (dialect, name, i)
                seen += 1
    assert seen > 200
