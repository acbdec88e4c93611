package org.ordinal;

/** Receives generated text as it streams, never a split UTF-8 sequence. */
@FunctionalInterface
public interface TokenListener {
  /**
   * Called once per generated token with the text it completes (may be empty while a multi-byte
   * character is incomplete), and once with token -1 for held bytes left at the end.
   *
   * @return false to stop generating after this token
   */
  boolean onToken(int token, String text);
}
