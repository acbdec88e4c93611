package org.ordinal;

/** A failed Ordinal call: the C API's status code, its name and the runtime's message. */
public class OrdinalException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int code;
  private final String codeName;

  public OrdinalException(int code, String codeName, String message) {
    super(codeName + ": " + message);
    this.code = code;
    this.codeName = codeName;
  }

  /** The ord_status value (ordinal.h), e.g. 11 for ORD_ABORTED. */
  public int code() {
    return code;
  }

  /** The status name, e.g. "invalid-argument", "capacity-exceeded", "aborted". */
  public String codeName() {
    return codeName;
  }
}
