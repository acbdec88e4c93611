package org.ordinal;

import java.nio.charset.StandardCharsets;

/**
 * One generation stream: KV cache and scratch planned at creation. Use it from one thread at a time;
 * {@link #cancel()} may be called from any thread.
 */
public final class Session implements AutoCloseable {
  long handle;
  private final Model model; // keeps the model reachable while the session lives

  /** Options; 0 means the default (threads: one per core; context: the model's max positions). */
  public static final class Options {
    public int threads = 0;
    public int contextLength = 0;
    public boolean int8KvCache = false;
  }

  public Session(Model model, Options options) {
    this.model = model;
    handle = Ordinal.sessionCreate(model.live(), options.threads, options.contextLength,
        options.int8KvCache ? 1 : 0);
  }

  public Session(Model model) {
    this(model, new Options());
  }

  public void prefill(int[] tokens) {
    Ordinal.sessionPrefill(live(), tokens);
  }

  public void decode(int token) {
    Ordinal.sessionDecode(live(), token);
  }

  /** A copy of the next-token logits. */
  public float[] logits() {
    return Ordinal.sessionLogits(live());
  }

  public long position() {
    return Ordinal.sessionPosition(live());
  }

  public void reset(long positionOffset) {
    Ordinal.sessionReset(live(), positionOffset);
  }

  /**
   * Stops the running prefill/decode/generate (from any thread) within one layer of one chunk; it throws
   * OrdinalException "aborted" and the session is as it was before that call. Each call starts uncancelled:
   * a cancel while no call runs has no effect.
   */
  public synchronized void cancel() {
    if (handle != 0) Ordinal.sessionCancel(handle, true); // synchronized with close(): never a freed handle
  }

  /** The session's state (cached keys/values, logits, positions), versioned and checksummed. */
  public byte[] saveState() {
    return Ordinal.sessionSaveState(live());
  }

  /** Restores a state from saveState(); verified, refused (with nothing changed) when corrupt or foreign. */
  public void loadState(byte[] state) {
    Ordinal.sessionLoadState(live(), state);
  }

  /**
   * Prefills prompt (may be empty to continue), then generates up to maxTokens tokens, streaming text to
   * listener; stops at end of generation or when the listener returns false.
   *
   * @return the number of tokens generated
   */
  public int generate(Sampler sampler, int[] prompt, int maxTokens, TokenListener listener) {
    return Ordinal.generate(live(), sampler.live(), prompt, maxTokens, new Sink(listener));
  }

  /** Called from native code with each token's UTF-8 bytes. */
  static final class Sink {
    private final TokenListener listener;

    Sink(TokenListener listener) {
      this.listener = listener;
    }

    boolean onToken(int token, byte[] utf8) {
      return listener.onToken(token, new String(utf8, StandardCharsets.UTF_8));
    }
  }

  long live() {
    if (handle == 0) throw new IllegalStateException("Session is closed");
    return handle;
  }

  public Model model() {
    return model;
  }

  @Override
  public synchronized void close() {
    if (handle != 0) {
      Ordinal.sessionFree(handle);
      handle = 0;
    }
  }
}
