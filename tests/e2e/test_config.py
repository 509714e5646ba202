"""Issue 8: configuration. A setting comes from its flag, else the environment, else the config file
($XDG_CONFIG_HOME/wsflow/config.json, a profile first), else the default; `wsflow config show`
says which; a bad config is exit 2 naming the file and the key."""
import json
import os

from wsflow_e2e import Server, _config_home, execute, free_port, wsflow

FAST = '{"delay_ms":1}'
# A dead URL fails fast: one retry after at most 10 ms.
QUICK_FAIL = {"WSFLOW_RETRIES": "1", "WSFLOW_RETRY_INITIAL": "10ms"}


def write_config(obj_or_text, path=None):
    path = path or os.path.join(_config_home(), "wsflow", "config.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text))
    return path


def dead_url():
    return "ws://127.0.0.1:%d" % free_port()


def finished_run(s):
    r = execute(s.url, "--auto-approve", "--config", FAST)
    assert r.rc == 0, r
    return r.events[0]["run_id"], r.out


def show(*args, env=None):
    r = wsflow("config", "show", *args, env=env)
    assert r.rc == 0, r
    return json.loads(r.out)


def test_url_precedence_flag_then_env_then_file():
    with Server() as s:
        run_id, out = finished_run(s)
        # the file names a dead port, the environment another, the flag the live server: the flag wins
        write_config({"url": dead_url()})
        env = dict(QUICK_FAIL, WSFLOW_URL=dead_url())
        r = wsflow("watch", run_id, "--url", s.url, env=env)
        assert r.rc == 0 and r.out == out, r
        # no flag: the environment wins over the file
        r = wsflow("watch", run_id, env=dict(QUICK_FAIL, WSFLOW_URL=s.url))
        assert r.rc == 0 and r.out == out, r
        r = wsflow("watch", run_id, "-v", env=env)
        assert r.rc == 5, r  # the environment's dead port, not the file's
        assert "connecting to %s/ws/" % env["WSFLOW_URL"] in r.err.decode(), r
        # neither: the file
        write_config({"url": s.url})
        r = wsflow("watch", run_id)
        assert r.rc == 0 and r.out == out, r
        # and a dead flag is not rescued by a live environment or file
        r = wsflow("watch", run_id, "--url", dead_url(), "--retries", "1", "--retry-initial", "10ms",
                   env={"WSFLOW_URL": s.url})
        assert r.rc == 5, r


def test_config_show_says_where_each_setting_comes_from():
    path = write_config({"retries": 3, "idle_timeout": 30, "output": "json",
                         "url": "ws://user:hunter2@example.test:9/ws?token=abc",
                         "profiles": {"ci": {"retries": 6, "retry_jitter": "none"}}})
    d = show()
    assert d["config_file"] == {"value": path, "source": "env:XDG_CONFIG_HOME", "exists": True}
    assert d["retries"] == {"value": 3, "source": "file"}
    assert d["idle_timeout"] == {"value": "30", "source": "file"}
    assert d["connect_timeout"] == {"value": "10s", "source": "default"}
    assert d["output"] == {"value": "json", "source": "file"}
    assert d["url"]["value"] == "ws://user:***@example.test:9/ws?token=***"  # secrets masked
    assert d["profile"] == {"value": None, "source": "default"}
    d = show(env={"WSFLOW_RETRIES": "4"})
    assert d["retries"] == {"value": 4, "source": "env:WSFLOW_RETRIES"}
    d = show("--retries", "5", env={"WSFLOW_RETRIES": "4"})
    assert d["retries"] == {"value": 5, "source": "flag"}
    d = show("--profile", "ci")
    assert d["profile"] == {"value": "ci", "source": "flag"}
    assert d["retries"] == {"value": 6, "source": "file:ci"}
    assert d["retry_jitter"] == {"value": "none", "source": "file:ci"}
    d = show(env={"WSFLOW_PROFILE": "ci"})
    assert d["profile"] == {"value": "ci", "source": "env:WSFLOW_PROFILE"}
    r = wsflow("config", "show", env={"WSFLOW_TOKEN": "hunter3"})
    assert json.loads(r.out)["token"] == {"value": "***", "source": "env:WSFLOW_TOKEN"}
    assert b"hunter2" not in r.out and b"hunter3" not in r.out
    # a file named by WSFLOW_CONFIG instead
    other = write_config({"queue_size": 7}, os.path.join(_config_home(), "other.json"))
    d = show(env={"WSFLOW_CONFIG": other})
    assert d["config_file"]["source"] == "env:WSFLOW_CONFIG"
    assert d["queue_size"] == {"value": 7, "source": "file"} and d["retries"]["source"] == "default"


def test_bad_config_is_exit_2_naming_the_file_and_the_key():
    cases = [
        ('{"url": "ws://x",', None, "not valid JSON"),
        ({"urll": "ws://x"}, "urll", "unknown key"),
        ({"retries": "many"}, "retries", "must be a whole number"),
        ({"retry_jitter": "half"}, "retry_jitter", "is not one of full, none"),
        ({"profiles": {"ci": {"ping_interval": "soon"}}}, "profiles.ci.ping_interval", "is not a duration"),
        ({"dialect": "nope"}, "dialect", "nope"),
        ({"profile": "gone", "profiles": {"ci": {}}}, "profiles.gone", "no such profile"),
    ]
    for content, key, why in cases:
        path = write_config(content)
        for args in (["config", "show"], ["watch", "r-1"], ["cancel", "r-1"]):
            r = wsflow(*args)
            err = r.err.decode()
            assert r.rc == 2, (content, args, r)
            assert len(err.splitlines()) == 1, err
            assert path in err and why in err, (content, err)
            if key:
                assert (": %s: " % key) in err, (key, err)
    # a profile asked for that the file does not have, or with no file at all
    path = write_config({"profiles": {"ci": {}}})
    r = wsflow("config", "show", "--profile", "prod")
    assert r.rc == 2 and path in r.err.decode() and "profiles.prod" in r.err.decode(), r
    os.unlink(path)
    r = wsflow("watch", "r-1", "--profile", "prod")
    assert r.rc == 2 and "--profile prod" in r.err.decode() and path in r.err.decode(), r
    r = wsflow("config", "show", env={"WSFLOW_CONFIG": path})
    assert r.rc == 2 and path in r.err.decode() and "WSFLOW_CONFIG" in r.err.decode(), r


def test_bad_environment_value_is_exit_2_naming_the_variable():
    for var, value in (("WSFLOW_RETRY_JITTER", "half"), ("WSFLOW_DIALECT", "nope"), ("WSFLOW_RETRIES", "-1"),
                       ("WSFLOW_CONNECT_TIMEOUT", "soon"), ("WSFLOW_OUTPUT", "fancy"), ("WSFLOW_QUEUE_SIZE", "0")):
        r = wsflow("watch", "r-1", env={var: value})
        assert r.rc == 2 and r.err.decode().startswith("wsflow: %s: " % var), (var, r)


def test_profile_selects_a_backend_and_file_settings_apply():
    with Server() as s:
        run_id, out = finished_run(s)
        write_config({"url": dead_url(), "retries": 1, "retry_initial": "10ms",
                      "profiles": {"live": {"url": s.url}, "pretty": {"url": s.url, "output": "pretty"}}})
        r = wsflow("watch", run_id)
        assert r.rc == 5, r  # the file's dead URL, given up after the file's one quick retry
        assert "giving up after 1 retry:" in r.err.decode(), r
        r = wsflow("watch", run_id, "--profile", "live")
        assert r.rc == 0 and r.out == out, r
        r = wsflow("watch", run_id, env={"WSFLOW_PROFILE": "live"})
        assert r.rc == 0 and r.out == out, r
        # output from the profile; a flag wins over it
        r = wsflow("watch", run_id, "--profile", "pretty")
        assert r.rc == 0 and not r.out.startswith(b"{") and b"workflow_completed" in r.out, r
        r = wsflow("watch", run_id, "--profile", "pretty", "--output", "json")
        assert r.rc == 0 and r.out == out, r
