import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import org.ordinal.Model;
import org.ordinal.Ordinal;
import org.ordinal.Sampler;
import org.ordinal.Session;

/**
 * A Java app on the installed Ordinal (ordinal.jar + libordinal_jni): generates greedily from BOS and
 * streams the text, as llama2.c's `run -t 0 -n STEPS` does (up to STEPS tokens). Usage:
 * java -Djava.library.path=PREFIX/lib -cp PREFIX/share/java/ordinal.jar:. Generate MODEL [STEPS]
 */
public final class Generate {
  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: Generate MODEL [STEPS]");
      System.exit(2);
    }
    int steps = args.length > 1 ? Integer.parseInt(args[1]) : 256;
    // Streams each piece as UTF-8 bytes, whatever the platform's default charset.
    PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
    try (Model model = Model.load(args[0]);
        Session session = new Session(model);
        Sampler sampler = Sampler.greedy(model.vocabSize())) {
      int n = session.generate(sampler, new int[] {model.bos()}, steps, (token, text) -> {
        out.print(text);
        return true;
      });
      out.print("\n");
      out.flush();
      System.err.println("Generate: " + n + " tokens, Ordinal " + Ordinal.version());
    }
  }
}
