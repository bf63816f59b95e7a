#!/usr/bin/env python3
"""MQTT events against a real broker (Debian's mosquitto on a free port; no mocks): the retained
server status and per-stream camera state topics of docs/ARCHITECTURE.md ("Events and MQTT"),
cameras going offline and online, a broker outage while cameras change state (sargasd reconnects
by itself and the retained topics end on the current state, although the restarted broker lost
every retained message), the offline status at a clean stop and the will at a crash, a broker
that is down when sargasd starts, and invalid MQTT settings refused at start; a camera whose URL
the daemon refuses is offline with the reason, a removed camera's retained state topic is
cleared, and a renamed camera's state and motion move to its new topics; MQTT over TLS with the broker's CA, and a broker refused under another CA."""
import json
import sqlite3
import os
import pwd
import re
import subprocess
import time

from harness import BUILD, MEDIA, Env, Proc, TestFailure, check, free_port, poll, run, utc_us

PREFIX = "sargas"
SITE = "default"
RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
STATE_KEYS = {"camera_id", "camera", "site_id", "site", "stream", "state", "since", "error"}


class Broker:
    """mosquitto with a private config: one listener on 127.0.0.1, anonymous, no persistence
    (a restart loses every retained message), its log in the test directory."""

    def __init__(self, env, port=None, tls=None):
        """tls: (certfile, keyfile) of a TLS listener."""
        self.env = env
        self.port = port or free_port()
        self.conf = os.path.join(env.dir, "mosquitto-%d.conf" % self.port)
        self.log = os.path.join(env.dir, "mosquitto-%d.log" % self.port)
        with open(self.conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n"
                    "log_type information\nconnection_messages true\n" % self.port)
            if tls:  # run as root, mosquitto would read them as user mosquitto: stay who we are
                f.write("certfile %s\nkeyfile %s\nuser %s\n" % (tls + (pwd.getpwuid(os.getuid()).pw_name,)))
        self.proc = None

    def start(self):
        self.proc = Proc(["mosquitto", "-c", self.conf], self.log, ready=" running", timeout=15)
        self.env.procs.append(self.proc)
        return self

    def stop(self):
        self.proc.stop()

    def text(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")


class Sub:
    """mosquitto_sub on PREFIX/#, one line per message: retained flag, topic, payload."""

    def __init__(self, env, broker, name, extra=()):
        self.name = "sg-test-" + name
        self.path = os.path.join(env.dir, "sub-%s.txt" % name)
        self.proc = Proc(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-i", self.name,
                          "-q", "1", "-t", PREFIX + "/#", "-F", r"%r\t%t\t%p"] + list(extra), self.path)
        env.procs.append(self.proc)
        poll(lambda: "as %s " % self.name in broker.text(), 10, "%s connected" % self.name)

    def messages(self):
        """[(retained, topic, payload as JSON)], in arrival order."""
        with open(self.path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").split("\n")[:-1]  # the last may be partial
        out = []
        for line in lines:
            parts = line.split("\t", 2)
            if len(parts) != 3 or parts[0] not in ("0", "1"):
                continue  # mosquitto_sub's own complaints
            if parts[2] == "":
                out.append((parts[0] == "1", parts[1], None))  # a retained topic cleared
                continue
            try:
                payload = json.loads(parts[2])
            except ValueError:
                raise TestFailure("%s: payload is not JSON: %r" % (parts[1], parts[2]))
            out.append((parts[0] == "1", parts[1], payload))
        return out

    def wait(self, topic, pred, after=0, timeout=20, what=None):
        """The first message on topic from index `after` on whose payload satisfies pred."""
        def found():
            for i, (_, t, p) in enumerate(self.messages()):
                if i >= after and t == topic and pred(p):
                    return p
            return None
        return poll(found, timeout, what or "%s on %s" % (self.name, topic))

    def last(self, topic):
        msgs = [(r, p) for r, t, p in self.messages() if t == topic]
        return msgs[-1] if msgs else (None, None)


def state_topic(cam, stream):
    return "%s/%s/%s/%s/state" % (PREFIX, SITE, cam, stream)


def status_topic(client_id="sargasd"):
    return "%s/server/%s/status" % (PREFIX, client_id)


def check_time(s, what):
    check(isinstance(s, str) and RFC3339_MS.match(s), "%s: not RFC 3339 UTC with milliseconds: %r" % (what, s))
    check(abs(utc_us(s) / 1e6 - time.time()) < 300, "%s: %s is not now" % (what, s))


def check_state(p, cam_id, name, stream, state):
    what = "%s %s state" % (name, stream)
    check(set(p) == STATE_KEYS, "%s: fields %s" % (what, sorted(p)))
    check(p["camera_id"] == cam_id and p["camera"] == name and p["site"] == SITE and p["site_id"] == 1
          and p["stream"] == stream and p["state"] == state, "%s: %s" % (what, p))
    check_time(p["since"], what)
    if state == "online":
        check(p["error"] is None, "%s: online with an error: %s" % (what, p))
    else:
        check(isinstance(p["error"], str) and p["error"], "%s: %s without a reason: %s" % (what, state, p))


def check_status(p, online):
    check(p.get("online") is online, "server status: %s" % p)
    if online:
        check(p.get("version") and isinstance(p["version"], str), "server status without version: %s" % p)
        check_time(p.get("since"), "server status since")


def check_motion(env, sub, fc, cam_id, level):
    """Motion events from the real analysis of a fake camera (its picture moves): a "start" on
    PREFIX/<site>/<camera>/motion, not retained, and when the camera goes away its "end" with
    the same event_id; both as stored in the catalog."""
    topic = "%s/%s/%s/motion" % (PREFIX, SITE, level)
    # a fresh event this subscriber sees begin: the camera goes away and comes back (the model
    # restarts, learns the scene, then the moving picture starts an event)
    port = fc.port
    fc.stop()
    poll(lambda: env.camera(cam_id)["state"] != "online", 15, "%s offline" % level)
    mark = len(sub.messages())
    fc = env.fakecam(2, port=port)
    start = sub.wait(topic, lambda p: p.get("event") == "start", after=mark, timeout=40,
                     what="a motion start of %s" % level)
    check(start["camera_id"] == cam_id and start["site"] == SITE and start["end"] is None and
          isinstance(start["event_id"], int) and 0 <= start["peak_score"] <= 1 and isinstance(start["zones"], list),
          "motion start payload: %s" % start)
    check_time(start["start"], "motion start")
    check(not [r for r, t, p in sub.messages() if t == topic and r], "motion messages must not be retained")
    mark = len(sub.messages())
    fc.stop()  # the stream goes offline: the event ends at its last analysed picture
    end = sub.wait(topic, lambda p: p.get("event") == "end" and p.get("event_id") == start["event_id"], after=mark,
                   timeout=20, what="the end of motion event %d" % start["event_id"])
    check_time(end["end"], "motion end")
    check(end["start"] == start["start"] and end["end"] >= end["start"], "motion end payload: %s" % end)
    with sqlite3.connect(env.catalog, timeout=10) as db:
        row = db.execute("SELECT camera_id, end_us FROM motion_events WHERE id = ?", (start["event_id"],)).fetchone()
    check(row and row[0] == cam_id and row[1] > 0, "the catalog's event %d: %s" % (start["event_id"], row))


def daemon_log(env):
    return env.daemon.text()


def test_mqtt():
    env = Env("mqtt")
    try:
        broker = Broker(env).start()
        env.config.update(mqtt_host="127.0.0.1", mqtt_port=broker.port)
        env.write_config()
        sub1 = Sub(env, broker, "sub1")
        fc = env.fakecam(2)
        port = fc.port
        # a name with a topic separator and non-ASCII text: the topic level is made safe
        gate_name, gate_level = "Gate/North ž", "Gate_North ž"
        gate = env.add_camera(gate_name, "rtsp://127.0.0.1:%d/cam1/main" % port,
                              "rtsp://127.0.0.1:%d/cam1/sub" % port)
        yard = env.add_camera("Yard", "rtsp://127.0.0.1:%d/cam2/main" % port,
                              "rtsp://127.0.0.1:%d/cam2/sub" % port)
        dead = env.add_camera("Dead", "rtsp://127.0.0.1:%d/cam1/main" % free_port())
        # a camera whose URL the daemon refuses (a file source, allowed when it was added and
        # not when sargasd starts): offline on MQTT too, with the reason
        env.config.update(allow_test_sources=1)
        env.write_config()
        tape = env.add_camera("Tape", "file://%s/sub.h264" % MEDIA)
        env.config.update(allow_test_sources=0)
        env.write_config()
        live = [(gate, gate_name, gate_level, "main"), (gate, gate_name, gate_level, "sub"),
                (yard, "Yard", "Yard", "main"), (yard, "Yard", "Yard", "sub")]
        t0 = time.monotonic()
        env.start()

        # --- start: the retained server status, every stream online, the dead camera offline
        check_status(sub1.wait(status_topic(), lambda p: p.get("online")), True)
        for cid, name, level, stream in live:
            p = sub1.wait(state_topic(level, stream), lambda p: p.get("state") == "online")
            check_state(p, cid, name, stream, "online")
        p = sub1.wait(state_topic("Dead", "main"), lambda p: p.get("state") == "offline")
        check_state(p, dead, "Dead", "main", "offline")
        print("mqtt: all online %.1f s after start; offline reason of the dead camera: %s"
              % (time.monotonic() - t0, p["error"]))
        p = sub1.wait(state_topic("Tape", "main"), lambda p: p.get("state") == "offline")
        check_state(p, tape, "Tape", "main", "offline")
        check("URL refused: file: URLs are refused" in p["error"], "refused URL: no reason on MQTT: %s" % p)
        print("mqtt: the refused camera's reason: %s" % p["error"])

        # --- the cameras go away, then return on the same port
        mark = len(sub1.messages())
        fc.stop()
        for cid, name, level, stream in live:
            p = sub1.wait(state_topic(level, stream), lambda p: p.get("state") == "offline", after=mark)
            check_state(p, cid, name, stream, "offline")
        mark = len(sub1.messages())
        fc = env.fakecam(2, port=port)
        for cid, name, level, stream in live:
            p = sub1.wait(state_topic(level, stream), lambda p: p.get("state") == "online", after=mark)
            check_state(p, cid, name, stream, "online")

        # --- broker outage while the cameras go offline and come back
        sub1.proc.stop()
        broker.stop()
        poll(lambda: "broker 127.0.0.1:%d unavailable" % broker.port in daemon_log(env), 10,
             "sargasd noticing the broker outage")
        fc.stop()
        poll(lambda: all(env.camera(c)["state"] in ("offline", "connecting") for c in (gate, yard)), 15,
             "cameras offline during the broker outage")
        fc = env.fakecam(2, port=port)
        poll(lambda: all(env.camera(c)["state"] == "online" for c in (gate, yard)), 20,
             "cameras online again during the broker outage")
        down_s = time.monotonic()
        broker.start()  # same port, and no retained messages any more
        sub2 = Sub(env, broker, "sub2")
        poll(lambda: "connected to broker 127.0.0.1:%d again" % broker.port in daemon_log(env), 15,
             "sargasd reconnecting by itself")
        print("mqtt: reconnected %.1f s after the broker returned" % (time.monotonic() - down_s))
        warned = daemon_log(env).count("broker 127.0.0.1:%d unavailable" % broker.port)
        check(warned == 1, "the outage was logged %d times, not once" % warned)
        check_status(sub2.wait(status_topic(), lambda p: p.get("online")), True)
        for cid, name, level, stream in live:
            sub2.wait(state_topic(level, stream), lambda p: p.get("state") == "online")
        # When sub2 was subscribed before sargasd came back, it also saw the transitions of
        # the outage sent after the reconnection, in order (offline before online).
        log = broker.text()
        if log.find("as sg-test-sub2 ") < log.rfind("as sargasd "):
            for cid, name, level, stream in live:
                states = [p["state"] for _, t, p in sub2.messages() if t == state_topic(level, stream)]
                check("offline" in states and states[-1] == "online" and
                      states.index("offline") < len(states) - 1,
                      "%s %s: the outage's transitions were not replayed: %s" % (name, stream, states))
            print("mqtt: the outage's state changes were replayed after the reconnection")

        # --- a late subscriber gets the retained current state of every stream and the status
        sub3 = Sub(env, broker, "sub3")
        expect = [(state_topic(level, stream), cid, name, stream, "online") for cid, name, level, stream in live]
        expect.append((state_topic("Dead", "main"), dead, "Dead", "main", "offline"))
        expect.append((state_topic("Tape", "main"), tape, "Tape", "main", "offline"))

        def complete():
            got = {t for r, t, p in sub3.messages() if r}
            return status_topic() in got and all(e[0] in got for e in expect)
        poll(complete, 10, "retained messages for the late subscriber")
        retained, p = sub3.last(status_topic())
        check(retained, "server status not retained")
        check_status(p, True)
        for topic, cid, name, stream, state in expect:
            msgs = [p for r, t, p in sub3.messages() if r and t == topic]
            check_state(msgs[-1], cid, name, stream, state)
        state_topics = {t for _, t, _ in sub3.messages() if t.endswith("/state")}
        check(state_topics == {e[0] for e in expect}, "unexpected state topics: %s" % sorted(state_topics))

        # --- a removed camera's retained state topic is cleared (an empty retained message)
        mark = len(sub3.messages())
        env.api("DELETE", "/api/v1/cameras/%d" % dead, expect=204)
        poll(lambda: [1 for i, (_, t, p) in enumerate(sub3.messages())
                      if i >= mark and t == state_topic("Dead", "main") and p is None], 15,
             "the removed camera's state topic cleared")
        sub5 = Sub(env, broker, "sub5")
        kept = [e for e in expect if e[1] != dead]

        def complete5():
            got = {t for r, t, p in sub5.messages() if r}
            return status_topic() in got and all(e[0] in got for e in kept)
        poll(complete5, 10, "retained messages for a subscriber after the removal")
        left = {t for r, t, p in sub5.messages() if r and t.endswith("/state")}
        check(left == {e[0] for e in kept}, "retained state topics after the removal: %s" % sorted(left))
        print("mqtt: the removed camera's retained state topic was cleared")

        # --- a renamed camera: its streams go on; the old retained state topics are cleared,
        # the new ones hold the current state, and motion goes to the new name
        mark = len(sub3.messages())
        env.api("PATCH", "/api/v1/cameras/%d" % yard, {"name": "Yard East"})
        for stream in ("main", "sub"):
            poll(lambda: [1 for i, (_, t, p) in enumerate(sub3.messages())
                          if i >= mark and t == state_topic("Yard", stream) and p is None], 15,
                 "the old state topic of the renamed camera's %s stream cleared" % stream)
            p = sub3.wait(state_topic("Yard East", stream), lambda p: p.get("state") == "online",
                          after=mark)
            check_state(p, yard, "Yard East", stream, "online")
        sub6 = Sub(env, broker, "sub6")
        renamed = [state_topic("Yard East", s) for s in ("main", "sub")]
        poll(lambda: all(t in {t for r, t, p in sub6.messages() if r} for t in renamed), 10,
             "retained state of the renamed camera")
        left = {t for r, t, p in sub6.messages() if r and t.endswith("/state")}
        check(not left & {state_topic("Yard", s) for s in ("main", "sub")},
              "the old name's state is still retained: %s" % sorted(left))
        print("mqtt: a renamed camera's state moved to its new topics")

        check_motion(env, sub3, fc, yard, "Yard East")

        # --- clean stop: the retained status says offline
        mark = len(sub3.messages())
        env.stop()
        check_status(sub3.wait(status_topic(), lambda p: p.get("online") is False, after=mark, timeout=5), False)
        sub4 = Sub(env, broker, "sub4")
        p = sub4.wait(status_topic(), lambda p: True, timeout=5)
        check(sub4.last(status_topic())[0] and p["online"] is False, "retained status after stop: %s" % p)

        # --- invalid MQTT settings: sargasd refuses to start and says why
        for key, value in (("mqtt_topic_prefix", "sargas/#"), ("mqtt_topic_prefix", "a/+/b"),
                           ("mqtt_client_id", "a/b")):
            r = subprocess.run([os.path.join(BUILD, "sargasd"), "--config", env.config_path,
                                "--set", "%s=%s" % (key, value)], capture_output=True, text=True, timeout=30)
            check(r.returncode != 0, "sargasd started with %s=%s" % (key, value))
            check("%s '%s' is not usable" % (key, value) in r.stderr and "cannot start MQTT" in r.stderr,
                  "no clear message for %s=%s:\n%s" % (key, value, r.stderr[-2000:]))
            check("ready" not in r.stderr, "sargasd got ready with %s=%s" % (key, value))
    finally:
        env.close()


def test_mqtt_broker_late():
    """The broker is down when sargasd starts: sargasd runs normally, warns once, connects when
    the broker comes up and sends what happened meanwhile; a crash leaves the will behind."""
    env = Env("mqtt-late")
    try:
        port = free_port()
        env.config.update(mqtt_host="127.0.0.1", mqtt_port=port, mqtt_client_id="sargasd-late")
        env.write_config()
        dead = env.add_camera("Nowhere", "rtsp://127.0.0.1:%d/cam1/main" % free_port())
        env.start()
        poll(lambda: "broker 127.0.0.1:%d unavailable" % port in daemon_log(env), 10, "the outage warning")
        poll(lambda: env.camera(dead)["state"] == "offline", 15, "the camera offline")
        st, _, _ = env.http("GET", "/api/v1/cameras")
        check(st == 200, "sargasd does not answer while the broker is down: %d" % st)
        broker = Broker(env, port).start()
        poll(lambda: "connected to broker 127.0.0.1:%d" % port in daemon_log(env), 15, "the first connection")
        warned = daemon_log(env).count("broker 127.0.0.1:%d unavailable" % port)
        check(warned == 1, "the outage was logged %d times, not once" % warned)
        sub = Sub(env, broker, "late")
        check_status(sub.wait(status_topic("sargasd-late"), lambda p: p.get("online")), True)
        p = sub.wait(state_topic("Nowhere", "main"), lambda p: p.get("state") == "offline")
        check_state(p, dead, "Nowhere", "main", "offline")
        # a crash: the broker publishes the will
        mark = len(sub.messages())
        env.daemon.kill9()
        p = sub.wait(status_topic("sargasd-late"), lambda p: p.get("online") is False, after=mark, timeout=10)
        check(p == {"online": False}, "will: %s" % p)
    finally:
        env.close()


def make_ca(d, name):
    """A CA (EC P-256) in d: (cert, key) paths."""
    cert, key = os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + name],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def make_server_cert(d, ca):
    """The broker's certificate for 127.0.0.1 (subjectAltName IP), signed by ca."""
    key, csr, cert, ext = (os.path.join(d, "broker" + x) for x in (".key", ".csr", ".pem", ".ext"))
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"], check=True, capture_output=True,
                   timeout=60)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
                    "-out", cert, "-days", "2", "-extfile", ext], check=True, capture_output=True, timeout=60)
    return cert, key


def test_mqtt_tls():
    """MQTT over TLS to a mosquitto TLS listener: with the CA that signed the broker's
    certificate the events arrive; with another CA sargasd refuses the broker, says why, and
    sends nothing."""
    env = Env("mqtt-tls")
    try:
        ca = make_ca(env.dir, "test-ca")
        other = make_ca(env.dir, "other-ca")
        broker = Broker(env, tls=make_server_cert(env.dir, ca)).start()
        sub = Sub(env, broker, "tls", extra=["--cafile", ca[0]])
        env.config.update(mqtt_host="127.0.0.1", mqtt_port=broker.port, mqtt_tls=1, mqtt_ca_file=other[0],
                          mqtt_client_id="sargasd-tls")
        env.write_config()
        dead = env.add_camera("Nowhere", "rtsp://127.0.0.1:%d/cam1/main" % free_port())
        # the wrong CA: the broker's certificate is refused, and the warning says so
        env.start()
        poll(lambda: "broker 127.0.0.1:%d unavailable" % broker.port in daemon_log(env), 15,
             "the refused broker's warning")
        line = [l for l in daemon_log(env).splitlines() if "unavailable" in l][0]
        check("certificate verify failed" in line, "the warning does not say why: %s" % line)
        print("mqtt tls: with another CA: %s" % line.strip())
        env.stop()
        check(not [t for _, t, _ in sub.messages() if t.startswith(PREFIX + "/")],
              "messages arrived through a broker whose certificate was refused: %s" % sub.messages())
        # the right CA: the retained status and the camera's state arrive
        env.config.update(mqtt_ca_file=ca[0])
        env.write_config()
        env.start()
        check_status(sub.wait(status_topic("sargasd-tls"), lambda p: p.get("online")), True)
        p = sub.wait(state_topic("Nowhere", "main"), lambda p: p.get("state") == "offline")
        check_state(p, dead, "Nowhere", "main", "offline")
        check("over TLS" in daemon_log(env), "the log does not say TLS is used")
        env.stop()
        # settings: a CA without TLS, half a client certificate
        for sets, expect in ((["mqtt_tls=0"], "need mqtt_tls = true"),
                             (["mqtt_cert_file=" + ca[0]], "mqtt_cert_file and mqtt_key_file must be given together")):
            r = subprocess.run([os.path.join(BUILD, "sargasd"), "--config", env.config_path, "--check-config"] +
                               [a for kv in sets for a in ("--set", kv)], capture_output=True, text=True, timeout=30)
            check(r.returncode == 2 and expect in r.stderr, "%s: %s" % (sets, r.stderr))
    finally:
        env.close()


def test_all():
    test_mqtt()
    test_mqtt_broker_late()
    test_mqtt_tls()


if __name__ == "__main__":
    run(test_all)
