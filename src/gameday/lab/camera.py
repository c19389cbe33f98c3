"""A simulated RTSP camera: a GStreamer RTSP server streaming H.264 test video.

One process per camera, so each can be stopped (camera offline) or paused with
SIGSTOP (a hung camera) on its own. The stream is at
``rtsp://127.0.0.1:PORT/stream``: 320x240, 10 frames per second, a key frame
every second.

This file runs under the system interpreter, ``/usr/bin/python3``, because only
it can import GObject introspection (``gi``); it must stay standalone (standard
library and ``gi`` only) and import nothing from gameday:

    /usr/bin/python3 camera.py --port 17860 --name camera-0

Debian packages: gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base
gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly python3-gst-1.0.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

HOST = "127.0.0.1"
MOUNT = "/stream"
FPS = 10
PATTERNS = ("ball", "smpte", "snow", "pinwheel")


def launch_line(pattern: str = "ball", fps: int = FPS) -> str:
    """The GStreamer pipeline a camera serves: live test video, H.264, RTP payload."""
    return (
        f"( videotestsrc is-live=true pattern={pattern} "
        f"! video/x-raw,width=320,height=240,framerate={fps}/1 "
        f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} bitrate=256 "
        "! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="gameday lab simulated RTSP camera")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", default="camera")
    parser.add_argument("--pattern", default="ball", choices=PATTERNS)
    parser.add_argument("--fps", type=int, default=FPS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {args.name}: %(message)s")
    log = logging.getLogger("camera")

    try:
        import gi

        gi.require_version("Gst", "1.0")
        gi.require_version("GstRtspServer", "1.0")
        from gi.repository import GLib, Gst, GstRtspServer
    except (ImportError, ValueError) as exc:
        log.error(
            "cannot load GStreamer's RTSP server (%s); install: apt-get install -y "
            "gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good "
            "gstreamer1.0-plugins-ugly python3-gst-1.0",
            exc,
        )
        return 3

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(HOST)
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch_line(args.pattern, args.fps))
    factory.set_shared(True)
    server.get_mount_points().add_factory(MOUNT, factory)
    if server.attach(None) == 0:
        log.error("cannot listen on %s:%d", HOST, args.port)
        return 1
    loop = GLib.MainLoop()

    def stop(*_: object) -> bool:
        log.info("stopping")
        loop.quit()
        return False

    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, stop)
    log.info("serving rtsp://%s:%d%s", HOST, args.port, MOUNT)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
