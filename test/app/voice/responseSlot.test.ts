/** Response creation as one state machine: one `response.create` in flight, the next deferred, never dropped. */
import { describe, expect, it } from 'vitest';
import { ResponseSlot } from '../../../app/voice/responseSlot';

describe('ResponseSlot', () => {
  it('sends the first request with its own event id and defers the next until the first is done', () => {
    const slot = new ResponseSlot('voice_response');
    expect(slot.request()).toBe('voice_response_1');
    expect(slot.request()).toBeNull();
    expect(slot.state).toEqual({ state: 'deferred', behind: { state: 'requested', eventId: 'voice_response_1' } });
    slot.created('resp_1');
    expect(slot.state).toEqual({ state: 'deferred', behind: { state: 'active', responseId: 'resp_1' } });
    expect(slot.done()).toBe(true);
    expect(slot.idle).toBe(true);
    expect(slot.request()).toBe('voice_response_2');
    expect(slot.state).toEqual({ state: 'requested', eventId: 'voice_response_2' });
    slot.created('resp_2');
    expect(slot.done()).toBe(false);
    expect(slot.idle).toBe(true);
  });

  it('folds any number of requests while one is in flight into one deferred response', () => {
    const slot = new ResponseSlot('r');
    slot.request();
    slot.request();
    slot.request();
    slot.created('resp_1');
    expect(slot.done()).toBe(true);
    expect(slot.request()).toBe('r_2');
    slot.created('resp_2');
    expect(slot.done()).toBe(false);
  });

  it('tracks a response the server created on its own (VAD) as active, so ours waits for it', () => {
    const slot = new ResponseSlot('r');
    slot.created('resp_vad');
    expect(slot.active).toBe(true);
    expect(slot.request()).toBeNull();
    expect(slot.done()).toBe(true);
    expect(slot.request()).toBe('r_1');
  });

  it('frees the slot when the server refuses our request, and only for the error that names it', () => {
    const slot = new ResponseSlot('r');
    slot.request();
    expect(slot.refused('someone_else_3')).toEqual({ freed: false, deferred: false });
    expect(slot.state).toEqual({ state: 'requested', eventId: 'r_1' });
    expect(slot.refused('r_1')).toEqual({ freed: true, deferred: false });
    expect(slot.idle).toBe(true);
  });

  it('frees a waiting request on an error that names no event (unreadable), so the voice never stays thinking', () => {
    const slot = new ResponseSlot('r');
    slot.request();
    expect(slot.refused(null)).toEqual({ freed: true, deferred: false });
    expect(slot.idle).toBe(true);
  });

  it('says a request was deferred behind the refused one, so it can go now', () => {
    const slot = new ResponseSlot('r');
    slot.request();
    slot.request();
    expect(slot.refused('r_1')).toEqual({ freed: true, deferred: true });
    expect(slot.request()).toBe('r_2');
  });

  it('never frees a response already under way on a refusal', () => {
    const slot = new ResponseSlot('r');
    slot.request();
    slot.created('resp_1');
    expect(slot.refused(null)).toEqual({ freed: false, deferred: false });
    expect(slot.state).toEqual({ state: 'active', responseId: 'resp_1' });
  });

  it('defers a request the server says collides with its own response, whichever arrived first', () => {
    const early = new ResponseSlot('r');
    early.request();
    expect(early.alreadyActive()).toBe(false);
    expect(early.state).toEqual({ state: 'deferred', behind: { state: 'active', responseId: null } });
    expect(early.done()).toBe(true);

    const late = new ResponseSlot('r');
    late.request();
    late.created('resp_vad');
    expect(late.alreadyActive()).toBe(false);
    expect(late.state).toEqual({ state: 'deferred', behind: { state: 'active', responseId: 'resp_vad' } });
    expect(late.done()).toBe(true);

    const ended = new ResponseSlot('r');
    ended.request();
    ended.created('resp_vad');
    ended.done();
    expect(ended.alreadyActive()).toBe(true);
  });

  it('starts empty on a new socket', () => {
    const slot = new ResponseSlot('r');
    slot.request();
    slot.request();
    slot.lost();
    expect(slot.idle).toBe(true);
    expect(slot.request()).toBe('r_2');
  });
});
