"""The session, without the UI: planning it (:mod:`.plan`, with when it is held and its
people and guide), consent at its start (:mod:`.consent`), the day in the field
(:mod:`.dayplan`), the running session (:mod:`.runtime`) with its event writer
(:mod:`.writer`) and the live view both terminals share (:mod:`.live`), the debrief
(:mod:`.debrief`), editing the transcript (:mod:`.review`), agreement between two coders
(:mod:`.agreement`), the home list (:mod:`.overview`), and finding a session from what a
researcher types (:mod:`.lookup`).

The interview screen and ``fieldkit record`` both drive :class:`.runtime.SessionRuntime`;
nothing in this package imports Textual. Import the modules themselves (this file
imports nothing, so ``fieldkit --help`` stays fast).
"""
