package org.ordinal;

/** Loads the JNI library (libordinal_jni) and declares its native methods; apps use Model, Session, Sampler. */
public final class Ordinal {
  static {
    System.loadLibrary("ordinal_jni");
  }

  private Ordinal() {}

  /** The runtime's version, "MAJOR.MINOR.PATCH". */
  public static String version() {
    return nativeVersion();
  }

  static native String nativeVersion();

  static native long modelLoad(String path);
  static native long modelLoadFd(int fd, long offset, long size);
  static native long modelLoadBuffer(byte[] bytes);
  static native void modelFree(long model);
  static native int modelVocabSize(long model);
  static native int modelBos(long model);
  static native int modelEos(long model);
  static native int[] tokenize(long model, byte[] utf8, boolean addBos);
  static native byte[] tokenText(long model, int prev, int token);

  static native long sessionCreate(long model, int threads, int contextLength, int kvCache);
  static native void sessionFree(long session);
  static native void sessionPrefill(long session, int[] tokens);
  static native void sessionDecode(long session, int token);
  static native float[] sessionLogits(long session);
  static native long sessionPosition(long session);
  static native void sessionReset(long session, long positionOffset);
  static native void sessionCancel(long session, boolean cancel);
  static native byte[] sessionSaveState(long session);
  static native void sessionLoadState(long session, byte[] state);
  static native int generate(long session, long sampler, int[] prompt, int maxTokens, Session.Sink sink);

  static native long samplerCreate(int vocabSize, float temperature, float topP, int topK, float minP,
      float repetitionPenalty, float frequencyPenalty, float presencePenalty, int penaltyWindow, long seed);
  static native void samplerFree(long sampler);
  static native void samplerSetLogitBias(long sampler, int token, float bias);
  static native int samplerSample(long sampler, long session);
}
