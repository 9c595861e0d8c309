"""Blinker signals: one per Vapi message type, plus catch-all, unknown, rejected and error.

Every signal is sent with the Flask app as sender.  Message signals carry the typed
message as ``message=`` and the receiving blueprint as ``blueprint=``; connect
receivers as ``def receiver(sender, message, **extra)``.  A receiver's exception is
logged and sent as :data:`handler_error`; it never changes the response.
"""

from __future__ import annotations

from blinker import NamedSignal, Namespace

_signals = Namespace()


def for_type(message_type: str) -> NamedSignal:
    """The signal of a message type (the named attributes below are the same objects).

    Every type in :data:`flask_vapi.catalogue.MESSAGE_KINDS` has one, named after its wire
    type; both transcript spellings share ``transcript``.
    """
    return _signals.signal(message_type)


#: Every accepted message, known or unknown type, before its own signal.
message_received: NamedSignal = _signals.signal("message-received")
#: A message whose type this version does not know (answered ``200 {}``).
unknown_message: NamedSignal = _signals.signal("unknown-message")
#: A request refused before dispatch.  Extra: ``status``, ``code``, ``reason``; for
#: 400/422 also ``body`` (the raw bytes), so nothing a sender posted is lost.
request_rejected: NamedSignal = _signals.signal("request-rejected")
#: A handler, receiver or response failed.  Extra: ``message``, ``exception``, ``handler``.
#: A handler past its budget is sent with a :class:`~flask_vapi.errors.DeadlineExceeded`.
handler_error: NamedSignal = _signals.signal("handler-error")
#: A handler that ran past its budget finished, off the request path (the caller had the
#: fallback).  Extra: ``message``, ``handler``, ``value`` (its return value, or ``None``),
#: ``exception`` (or ``None``), ``tool_call`` (the :class:`~flask_vapi.models.ToolCall`, or
#: ``None`` for a responder) and, for tools, ``entry`` (the ``results[]`` part it produced).
late_result: NamedSignal = _signals.signal("late-result")
#: A late or background tool result was posted into the live call (Live Call Control).
#: Extra: ``message``, ``tool_call``, ``attempts``.
late_result_delivered: NamedSignal = _signals.signal("late-result-delivered")
#: A late or background tool result could not be delivered.  Extra: ``message``,
#: ``tool_call``, ``reason`` (no control URL, the call ended, or what the last try got).
late_result_undelivered: NamedSignal = _signals.signal("late-result-undelivered")

#: A redelivered message (the same body again) or tool call (the same call and tool call
#: id) was answered with the first answer, running nothing; the message's own signals are
#: not sent.  Extra: ``message``, and ``tool_call`` for a tool call.
duplicate_message: NamedSignal = _signals.signal("duplicate-message")
#: The store (``VAPI_STORE_URL``) failed; the request was handled without it.  Extra:
#: ``exception`` (a :class:`~flask_vapi.store.StoreError`), ``operation`` (what it was doing).
store_error: NamedSignal = _signals.signal("store-error")

#: ``assistant-request``: an inbound call needs an assistant (see ``@vapi.assistant_request``).
assistant_request: NamedSignal = _signals.signal("assistant-request")

#: ``conversation-update``: the conversation history was committed.
conversation_update: NamedSignal = _signals.signal("conversation-update")

#: ``end-of-call-report``: the call ended; the report carries artifact, analysis and cost.
end_of_call_report: NamedSignal = _signals.signal("end-of-call-report")

#: ``handoff-destination-request``: the model requests a handoff, destination unknown.
handoff_destination_request: NamedSignal = _signals.signal("handoff-destination-request")

#: ``hang``: the assistant is stalling.
hang: NamedSignal = _signals.signal("hang")

#: ``knowledge-base-request``: a custom knowledge base is queried.
knowledge_base_request: NamedSignal = _signals.signal("knowledge-base-request")

#: ``model-output``: the model streamed a token or tool-call chunk.
model_output: NamedSignal = _signals.signal("model-output")

#: ``phone-call-control``: your server must forward or hang up the call.
phone_call_control: NamedSignal = _signals.signal("phone-call-control")

#: ``speech-update``: the assistant or the user started or stopped speaking.
speech_update: NamedSignal = _signals.signal("speech-update")

#: ``status-update``: the call's status changed.
status_update: NamedSignal = _signals.signal("status-update")

#: ``tool-calls``: the model calls tools (answered by ``tool`` handlers).
tool_calls: NamedSignal = _signals.signal("tool-calls")

#: ``transfer-destination-request``: the model requests a transfer, destination unknown.
transfer_destination_request: NamedSignal = _signals.signal("transfer-destination-request")

#: ``transfer-update``: a transfer happened.
transfer_update: NamedSignal = _signals.signal("transfer-update")

#: ``transcript``: a partial or final transcript (both wire spellings).
transcript: NamedSignal = _signals.signal("transcript")

#: ``user-interrupted``: the user interrupted the assistant.
user_interrupted: NamedSignal = _signals.signal("user-interrupted")

#: ``language-change-detected``: the transcriber switched language.
language_change_detected: NamedSignal = _signals.signal("language-change-detected")

#: ``language-changed``: legacy name of language-change-detected.
language_changed: NamedSignal = _signals.signal("language-changed")

#: ``voice-input``: text was sent to the voice provider.
voice_input: NamedSignal = _signals.signal("voice-input")

#: ``assistant.speechStarted``: the assistant started speaking a turn.
assistant_speech_started: NamedSignal = _signals.signal("assistant.speechStarted")

#: ``assistant.started``: an assistant became active.
assistant_started: NamedSignal = _signals.signal("assistant.started")

#: ``voice-request``: custom voice: text to synthesise.
voice_request: NamedSignal = _signals.signal("voice-request")

#: ``call.endpointing.request``: custom endpointing: how long to wait for the user.
call_endpointing_request: NamedSignal = _signals.signal("call.endpointing.request")

#: ``chat.created``: a Chat API chat was created.
chat_created: NamedSignal = _signals.signal("chat.created")

#: ``chat.deleted``: a Chat API chat was deleted.
chat_deleted: NamedSignal = _signals.signal("chat.deleted")

#: ``session.created``: a session was created.
session_created: NamedSignal = _signals.signal("session.created")

#: ``session.updated``: a session was updated.
session_updated: NamedSignal = _signals.signal("session.updated")

#: ``session.deleted``: a session was deleted.
session_deleted: NamedSignal = _signals.signal("session.deleted")

#: ``call.deleted``: a call's data was deleted.
call_deleted: NamedSignal = _signals.signal("call.deleted")

#: ``call.delete.failed``: deleting a call's data failed.
call_delete_failed: NamedSignal = _signals.signal("call.delete.failed")

#: ``call.artifact.upload``: artifacts were written to your storage.
call_artifact_upload: NamedSignal = _signals.signal("call.artifact.upload")

#: ``campaign.predial``: a campaign asks whether it may dial a contact.
campaign_predial: NamedSignal = _signals.signal("campaign.predial")

#: ``function-call``: legacy tool call (answered by ``tool`` handlers).
function_call: NamedSignal = _signals.signal("function-call")

#: ``campaign.started``: a campaign started.
campaign_started: NamedSignal = _signals.signal("campaign.started")

#: ``campaign.cancelled``: a campaign was cancelled.
campaign_cancelled: NamedSignal = _signals.signal("campaign.cancelled")

#: ``campaign.ended``: a campaign ended.
campaign_ended: NamedSignal = _signals.signal("campaign.ended")

#: ``campaign.archived``: a campaign was archived.
campaign_archived: NamedSignal = _signals.signal("campaign.archived")

#: ``campaign.unarchived``: a campaign was unarchived.
campaign_unarchived: NamedSignal = _signals.signal("campaign.unarchived")

#: ``campaign.job.continued``: a campaign job continued.
campaign_job_continued: NamedSignal = _signals.signal("campaign.job.continued")

#: ``contact.dispatched``: a campaign contact was dispatched.
contact_dispatched: NamedSignal = _signals.signal("contact.dispatched")

#: ``contact.completed``: a campaign contact completed.
contact_completed: NamedSignal = _signals.signal("contact.completed")

#: ``contact.failed``: a campaign contact failed.
contact_failed: NamedSignal = _signals.signal("contact.failed")

#: ``contact.skipped``: a campaign contact was skipped.
contact_skipped: NamedSignal = _signals.signal("contact.skipped")

#: ``contact.predial-failed``: a campaign contact's pre-dial check failed.
contact_predial_failed: NamedSignal = _signals.signal("contact.predial-failed")

#: ``simulation.run.started``: a Vapi test simulation's run began (sent without envelope).
simulation_run_started: NamedSignal = _signals.signal("simulation.run.started")

#: ``simulation.run.ended``: a test simulation's run ended, with its outcome.
simulation_run_ended: NamedSignal = _signals.signal("simulation.run.ended")
