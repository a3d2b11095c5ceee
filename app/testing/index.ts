/**
 * Test doubles shipped beside the code they stand in for: a scripted microphone, a recording
 * speaker, a perfect echo canceller and a manual speech detector (the audio ports), a manual clock for the sessions' `now`/`sleep` and the playout's
 * scheduler, an event log to wait on, and a WebSocket factory that records the frames of real sockets. None of them keeps
 * an API key; the socket recorder notes `apiKeyProvided` instead.
 */
export { drainingPlayout, ManualDetector, RecordingSink, ScriptedMic, SilencingCanceller, silence, tone } from './audio';
export { fastScheduler, ManualClock } from './clock';
export { eventLog, type EventLog } from './events';
export { seeded } from './random';
export { frameRecorder, type Direction, type FrameRecorder, type Protocol, type RecordedFrame, type RecordedSocket } from './recordingSocket';
