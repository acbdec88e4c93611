package org.ordinal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** The Java binding on the host JVM (CTest java_binding): errors as exceptions, lossless text, streaming
 * generation, cancel, session state. Exits 1 on the first failed check. Argument: a model file. */
public final class OrdinalTest {
  private static int checks = 0;

  private static void check(boolean ok, String what) {
    ++checks;
    if (!ok) {
      System.err.println("FAILED: " + what);
      System.exit(1);
    }
  }

  private static OrdinalException expectThrows(Runnable r, String what) {
    try {
      r.run();
    } catch (OrdinalException e) {
      return e;
    }
    check(false, what + ": no OrdinalException");
    return null;
  }

  public static void main(String[] args) {
    check(args.length >= 1, "usage: OrdinalTest MODEL");
    check(Ordinal.version().matches("\\d+\\.\\d+\\.\\d+"), "version: " + Ordinal.version());

    OrdinalException e = expectThrows(() -> Model.load("/nonexistent/model.ordinal"), "missing file");
    check(e.code() == 3 && e.codeName().equals("io-error"), "io-error code: " + e.getMessage());
    check(e.getMessage().contains("/nonexistent/model.ordinal"), "message names the path: " + e.getMessage());
    e = expectThrows(() -> Model.loadBytes(new byte[100]), "garbage bytes");
    check(e.codeName().equals("invalid-model"), "invalid-model: " + e.getMessage());

    try (Model model = Model.load(args[0])) {
      // Lossless text: byte-fallback pieces reassemble multi-byte UTF-8.
      String text = "caf\u00e9 \ud83d\ude00";
      int[] ids = model.tokenize(text, true);
      check(ids[0] == model.bos(), "BOS first");
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      for (int i = 1; i < ids.length; ++i) bytes.writeBytes(model.tokenBytes(ids[i - 1], ids[i]));
      check(Arrays.equals(bytes.toByteArray(), text.getBytes(StandardCharsets.UTF_8)),
          "tokenBytes round-trip: " + new String(bytes.toByteArray(), StandardCharsets.UTF_8));

      Session.Options opt = new Session.Options();
      opt.threads = 1;
      try (Session session = new Session(model, opt); Sampler greedy = Sampler.greedy(model.vocabSize())) {
        e = expectThrows(() -> session.decode(-1), "bad token");
        check(e.codeName().equals("invalid-argument") && !e.getMessage().contains("invalid-argument: invalid"),
            "message without a doubled code: " + e.getMessage());

        // Streaming generation: the pieces concatenate to the tokens' bytes.
        StringBuilder streamed = new StringBuilder();
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        int[] prev = {ids[ids.length - 1]};
        int n = session.generate(greedy, ids, 12, (token, piece) -> {
          streamed.append(piece);
          if (token >= 0) {
            expected.writeBytes(model.tokenBytes(prev[0], token));
            prev[0] = token;
          }
          return true;
        });
        check(n > 0 && n <= 12, "generated " + n);
        check(streamed.toString().equals(new String(expected.toByteArray(), StandardCharsets.UTF_8)),
            "streamed text equals the tokens' bytes");
        check(session.position() == ids.length + n, "every generated token decoded");

        // State: save, change, restore: bit-identical logits.
        byte[] state = session.saveState();
        float[] before = session.logits();
        session.decode(70);
        check(!Arrays.equals(before, session.logits()), "decode changes logits");
        session.loadState(state);
        check(Arrays.equals(before, session.logits()), "restored logits are bit-identical");
        check(session.position() == ids.length + n, "restored position");
        byte[] bad = state.clone();
        bad[bad.length / 2] ^= 0x10;
        e = expectThrows(() -> session.loadState(bad), "corrupt state");
        check(e.getMessage().contains("checksum"), "corrupt state named: " + e.getMessage());
        check(Arrays.equals(before, session.logits()), "a refused state changes nothing");

        // Cancel from the listener: the decode that follows is aborted, the session is as before it.
        long at = session.position();
        e = expectThrows(() -> session.generate(greedy, new int[0], 8, (token, piece) -> {
          session.cancel();
          return true;
        }), "cancel");
        check(e.codeName().equals("aborted"), "aborted: " + e.getMessage());
        check(session.position() == at, "cancelled decode left the session as it was");
        session.decode(70); // usable afterwards: each call starts uncancelled
        check(session.position() == at + 1, "usable after cancel");
      }
    }
    System.out.println("java binding: " + checks + " checks passed");
  }
}
