package org.ordinal;

/**
 * The sampler chain: logit bias, repetition/frequency/presence penalties, temperature (0 = greedy),
 * top-k, min-p, top-p, seeded draw. It reads a session's logits and never changes them.
 */
public final class Sampler implements AutoCloseable {
  long handle;

  /** Parameters; defaults: temperature 1, every filter and penalty off, window 64, seed 42. */
  public static final class Params {
    public float temperature = 1.0f;
    public float topP = 1.0f;
    public int topK = 0;
    public float minP = 0.0f;
    public float repetitionPenalty = 1.0f;
    public float frequencyPenalty = 0.0f;
    public float presencePenalty = 0.0f;
    public int penaltyWindow = 64;
    public long seed = 42;
  }

  public Sampler(int vocabSize, Params p) {
    handle = Ordinal.samplerCreate(vocabSize, p.temperature, p.topP, p.topK, p.minP, p.repetitionPenalty,
        p.frequencyPenalty, p.presencePenalty, p.penaltyWindow, p.seed);
  }

  /** Greedy decoding (argmax). */
  public static Sampler greedy(int vocabSize) {
    Params p = new Params();
    p.temperature = 0.0f;
    return new Sampler(vocabSize, p);
  }

  /** Adds bias to token's logit before every draw; Float.NEGATIVE_INFINITY bans it. */
  public void setLogitBias(int token, float bias) {
    Ordinal.samplerSetLogitBias(live(), token, bias);
  }

  /** Samples from the session's current logits. */
  public int sample(Session session) {
    return Ordinal.samplerSample(live(), session.live());
  }

  long live() {
    if (handle == 0) throw new IllegalStateException("Sampler is closed");
    return handle;
  }

  @Override
  public synchronized void close() {
    if (handle != 0) {
      Ordinal.samplerFree(handle);
      handle = 0;
    }
  }
}
