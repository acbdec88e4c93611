package org.ordinal;

import java.nio.charset.StandardCharsets;

/** A loaded model: mapped, verified, immutable; shared by any number of sessions on any threads. */
public final class Model implements AutoCloseable {
  long handle;

  private Model(long handle) {
    this.handle = handle;
  }

  /** Maps and verifies a model file. */
  public static Model load(String path) {
    return new Model(Ordinal.modelLoad(path));
  }

  /**
   * {@code size} bytes at {@code offset} of an open file descriptor, e.g. an uncompressed APK asset
   * (AssetFileDescriptor: getParcelFileDescriptor().getFd(), getStartOffset(), getLength()).
   */
  public static Model loadFd(int fd, long offset, long size) {
    return new Model(Ordinal.modelLoadFd(fd, offset, size));
  }

  /** A model held in a byte array (copied once into memory the model owns). */
  public static Model loadBytes(byte[] bytes) {
    return new Model(Ordinal.modelLoadBuffer(bytes));
  }

  public int vocabSize() {
    return Ordinal.modelVocabSize(live());
  }

  public int bos() {
    return Ordinal.modelBos(live());
  }

  public int eos() {
    return Ordinal.modelEos(live());
  }

  /** Token ids for text, BOS first when addBos. */
  public int[] tokenize(String text, boolean addBos) {
    return Ordinal.tokenize(live(), text.getBytes(StandardCharsets.UTF_8), addBos);
  }

  /** The raw bytes of token after prev (byte-fallback tokens give one byte each: lossless). */
  public byte[] tokenBytes(int prev, int token) {
    return Ordinal.tokenText(live(), prev, token);
  }

  long live() {
    if (handle == 0) throw new IllegalStateException("Model is closed");
    return handle;
  }

  @Override
  public synchronized void close() {
    if (handle != 0) {
      Ordinal.modelFree(handle);
      handle = 0;
    }
  }
}
