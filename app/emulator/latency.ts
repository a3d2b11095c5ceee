/**
 * The emulator's latency model: simulated, and labelled so wherever it is reported. It lets
 * WebSocket mode and HTTP mode be compared side by side on one machine with the costs that
 * differ between them (connection setup per request, resending uncached input) made explicit.
 */
export interface LatencyModel {
  /** Network round trip added before the first event of every response. */
  rttMs: number;
  /** Time per input token the server has not cached (full-context resends pay this). */
  uncachedInputTokenMs: number;
  /** Streaming speed of output, in tokens (deltas) per second; 0 streams without pauses. */
  outputTokensPerSecond: number;
  /** Extra setup per HTTP request (TCP + TLS handshake); a WebSocket pays it once, at connect. */
  httpSetupMs: number;
  /**
   * Over HTTP, input whose prefix an earlier request with the same instructions and tools already
   * sent counts as cached, as the service's prompt caching does (off by default: every HTTP request
   * then pays for its whole input, the model's worst case for HTTP).
   */
  httpPromptCaching?: boolean;
}

/** Defaults that make the offline app feel like a fast real service. */
export const defaultLatency: LatencyModel = {
  rttMs: 40,
  uncachedInputTokenMs: 0.05,
  outputTokensPerSecond: 80,
  httpSetupMs: 60,
};

/** No simulated delay at all: what tests use unless they measure the model itself. */
export const noLatency: LatencyModel = { rttMs: 0, uncachedInputTokenMs: 0, outputTokensPerSecond: 0, httpSetupMs: 0 };

export function timeToFirstEventMs(model: LatencyModel, uncachedInputTokens: number, overHttp: boolean): number {
  return model.rttMs + uncachedInputTokens * model.uncachedInputTokenMs + (overHttp ? model.httpSetupMs : 0);
}

export function perOutputTokenMs(model: LatencyModel): number {
  return model.outputTokensPerSecond > 0 ? 1000 / model.outputTokensPerSecond : 0;
}

export function pause(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
