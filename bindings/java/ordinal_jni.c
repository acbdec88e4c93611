/* JNI glue for org.ordinal.*: plain C over the C API. Handles are jlong; every failing ord_status becomes an
 * org.ordinal.OrdinalException (code, name, ord_last_error()), so nothing unwinds through native frames.
 * Sessions carry a cancel flag that Session.cancel() sets from any thread and the abort callback reads. */
#include <jni.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ordinal/ordinal.h"

typedef struct jni_session {
  ord_session* session;
  volatile int cancel; /* set by Session.cancel() (any thread), read between layers */
} jni_session;

static void throw_status(JNIEnv* env, ord_status st) {
  jclass cls = (*env)->FindClass(env, "org/ordinal/OrdinalException");
  if (!cls) return; /* NoClassDefFoundError pending */
  jmethodID ctor = (*env)->GetMethodID(env, cls, "<init>", "(ILjava/lang/String;Ljava/lang/String;)V");
  if (!ctor) return;
  jstring name = (*env)->NewStringUTF(env, ord_status_name(st));
  jstring msg = (*env)->NewStringUTF(env, ord_last_error());
  jobject ex = (*env)->NewObject(env, cls, ctor, (jint)st, name, msg);
  if (ex) (*env)->Throw(env, (jthrowable)ex);
}

static int failed(JNIEnv* env, ord_status st) {
  if (st == ORD_OK) return 0;
  throw_status(env, st);
  return 1;
}

static void throw_arg(JNIEnv* env, const char* what) {
  jclass cls = (*env)->FindClass(env, "java/lang/IllegalArgumentException");
  if (cls) (*env)->ThrowNew(env, cls, what);
}

static ord_model* M(jlong h) {
  return (ord_model*)(intptr_t)h;
}
static jni_session* S(jlong h) {
  return (jni_session*)(intptr_t)h;
}
static ord_sampler* P(jlong h) {
  return (ord_sampler*)(intptr_t)h;
}

static int is_cancelled(void* user) {
  return ((jni_session*)user)->cancel != 0;
}

#define FN(name) Java_org_ordinal_Ordinal_##name

JNIEXPORT jstring JNICALL FN(nativeVersion)(JNIEnv* env, jclass cls) {
  return (*env)->NewStringUTF(env, ord_version());
}

JNIEXPORT jlong JNICALL FN(modelLoad)(JNIEnv* env, jclass cls, jstring path) {
  if (!path) {
    throw_arg(env, "path is null");
    return 0;
  }
  const char* p = (*env)->GetStringUTFChars(env, path, NULL);
  if (!p) return 0;
  ord_model* m = NULL;
  ord_status st = ord_model_load(p, &m);
  (*env)->ReleaseStringUTFChars(env, path, p);
  return failed(env, st) ? 0 : (jlong)(intptr_t)m;
}

JNIEXPORT jlong JNICALL FN(modelLoadFd)(JNIEnv* env, jclass cls, jint fd, jlong offset, jlong size) {
  if (size < 0) {
    throw_arg(env, "size is negative");
    return 0;
  }
  ord_model* m = NULL;
  return failed(env, ord_model_load_fd(fd, offset, (size_t)size, &m)) ? 0 : (jlong)(intptr_t)m;
}

JNIEXPORT jlong JNICALL FN(modelLoadBuffer)(JNIEnv* env, jclass cls, jbyteArray bytes) {
  if (!bytes) {
    throw_arg(env, "bytes is null");
    return 0;
  }
  const jsize n = (*env)->GetArrayLength(env, bytes);
  jbyte* data = (*env)->GetByteArrayElements(env, bytes, NULL);
  if (!data) return 0;
  ord_model* m = NULL;
  /* The JVM may move or free the array: the model gets its own copy. */
  ord_status st = ord_model_load_buffer_copy(data, (size_t)n, &m);
  (*env)->ReleaseByteArrayElements(env, bytes, data, JNI_ABORT);
  return failed(env, st) ? 0 : (jlong)(intptr_t)m;
}

JNIEXPORT void JNICALL FN(modelFree)(JNIEnv* env, jclass cls, jlong model) {
  ord_model_free(M(model));
}

JNIEXPORT jint JNICALL FN(modelVocabSize)(JNIEnv* env, jclass cls, jlong model) {
  return (jint)ord_model_vocab_size(M(model));
}
JNIEXPORT jint JNICALL FN(modelBos)(JNIEnv* env, jclass cls, jlong model) {
  return (jint)ord_model_bos(M(model));
}
JNIEXPORT jint JNICALL FN(modelEos)(JNIEnv* env, jclass cls, jlong model) {
  return (jint)ord_model_eos(M(model));
}

JNIEXPORT jintArray JNICALL FN(tokenize)(JNIEnv* env, jclass cls, jlong model, jbyteArray utf8,
                                         jboolean bos) {
  if (!utf8) {
    throw_arg(env, "text is null");
    return NULL;
  }
  const jsize n = (*env)->GetArrayLength(env, utf8);
  jbyte* text = (*env)->GetByteArrayElements(env, utf8, NULL);
  if (!text) return NULL;
  size_t count = 0;
  ord_status st = ord_tokenize_n(M(model), (const char*)text, (size_t)n, bos, NULL, 0, &count);
  int32_t* ids = NULL;
  if (st == ORD_CAPACITY_EXCEEDED || st == ORD_OK) {
    ids = (int32_t*)malloc((count ? count : 1) * sizeof(int32_t));
    st = ids ? ord_tokenize_n(M(model), (const char*)text, (size_t)n, bos, ids, count, &count) : ORD_INTERNAL;
  }
  (*env)->ReleaseByteArrayElements(env, utf8, text, JNI_ABORT);
  jintArray out = NULL;
  if (!failed(env, st)) {
    out = (*env)->NewIntArray(env, (jsize)count);
    if (out) (*env)->SetIntArrayRegion(env, out, 0, (jsize)count, (const jint*)ids);
  }
  free(ids);
  return out;
}

JNIEXPORT jbyteArray JNICALL FN(tokenText)(JNIEnv* env, jclass cls, jlong model, jint prev, jint token) {
  size_t len = 0;
  ord_status st = ord_token_text(M(model), prev, token, NULL, 0, &len);
  if (st != ORD_CAPACITY_EXCEEDED && failed(env, st)) return NULL;
  char* buf = (char*)malloc(len + 1);
  if (!buf) {
    throw_arg(env, "out of memory");
    return NULL;
  }
  st = ord_token_text(M(model), prev, token, buf, len + 1, &len);
  jbyteArray out = NULL;
  if (!failed(env, st)) {
    out = (*env)->NewByteArray(env, (jsize)len);
    if (out) (*env)->SetByteArrayRegion(env, out, 0, (jsize)len, (const jbyte*)buf);
  }
  free(buf);
  return out;
}

JNIEXPORT jlong JNICALL FN(sessionCreate)(JNIEnv* env, jclass cls, jlong model, jint threads, jint context,
                                          jint kv) {
  if (threads < 0 || context < 0) {
    throw_arg(env, "threads and contextLength must be >= 0");
    return 0;
  }
  ord_session_options o = ord_session_default_options();
  o.threads = (uint32_t)threads;
  o.context_length = (uint32_t)context;
  o.kv_cache = (uint32_t)kv;
  jni_session* js = (jni_session*)calloc(1, sizeof *js);
  if (!js) {
    throw_arg(env, "out of memory");
    return 0;
  }
  ord_status st = ord_session_create(M(model), &o, &js->session);
  if (failed(env, st)) {
    free(js);
    return 0;
  }
  ord_session_set_abort_callback(js->session, is_cancelled, js);
  return (jlong)(intptr_t)js;
}

JNIEXPORT void JNICALL FN(sessionFree)(JNIEnv* env, jclass cls, jlong session) {
  jni_session* js = S(session);
  if (!js) return;
  ord_session_free(js->session);
  free(js);
}

JNIEXPORT void JNICALL FN(sessionPrefill)(JNIEnv* env, jclass cls, jlong session, jintArray tokens) {
  if (!tokens) {
    throw_arg(env, "tokens is null");
    return;
  }
  const jsize n = (*env)->GetArrayLength(env, tokens);
  jint* ids = (*env)->GetIntArrayElements(env, tokens, NULL);
  if (!ids) return;
  S(session)->cancel = 0;
  ord_status st = ord_session_prefill(S(session)->session, (const int32_t*)ids, (size_t)n);
  (*env)->ReleaseIntArrayElements(env, tokens, ids, JNI_ABORT);
  failed(env, st);
}

JNIEXPORT void JNICALL FN(sessionDecode)(JNIEnv* env, jclass cls, jlong session, jint token) {
  S(session)->cancel = 0;
  failed(env, ord_session_decode(S(session)->session, token));
}

JNIEXPORT jfloatArray JNICALL FN(sessionLogits)(JNIEnv* env, jclass cls, jlong session) {
  const ord_session* s = S(session)->session;
  const jsize n = (jsize)ord_session_vocab_size(s);
  jfloatArray out = (*env)->NewFloatArray(env, n);
  if (out) (*env)->SetFloatArrayRegion(env, out, 0, n, ord_session_logits(s));
  return out;
}

JNIEXPORT jlong JNICALL FN(sessionPosition)(JNIEnv* env, jclass cls, jlong session) {
  return (jlong)ord_session_position(S(session)->session);
}

JNIEXPORT void JNICALL FN(sessionReset)(JNIEnv* env, jclass cls, jlong session, jlong offset) {
  failed(env, ord_session_reset(S(session)->session, offset));
}

JNIEXPORT void JNICALL FN(sessionCancel)(JNIEnv* env, jclass cls, jlong session, jboolean cancel) {
  S(session)->cancel = cancel ? 1 : 0;
}

JNIEXPORT jbyteArray JNICALL FN(sessionSaveState)(JNIEnv* env, jclass cls, jlong session) {
  const ord_session* s = S(session)->session;
  size_t size = 0;
  if (failed(env, ord_session_state_size(s, &size))) return NULL;
  jbyteArray out = (*env)->NewByteArray(env, (jsize)size);
  if (!out) return NULL;
  jbyte* buf = (*env)->GetByteArrayElements(env, out, NULL);
  if (!buf) return NULL;
  ord_status st = ord_session_save_state(s, buf, size, &size);
  (*env)->ReleaseByteArrayElements(env, out, buf, 0);
  return failed(env, st) ? NULL : out;
}

JNIEXPORT void JNICALL FN(sessionLoadState)(JNIEnv* env, jclass cls, jlong session, jbyteArray state) {
  if (!state) {
    throw_arg(env, "state is null");
    return;
  }
  const jsize n = (*env)->GetArrayLength(env, state);
  jbyte* data = (*env)->GetByteArrayElements(env, state, NULL);
  if (!data) return;
  ord_status st = ord_session_load_state(S(session)->session, data, (size_t)n);
  (*env)->ReleaseByteArrayElements(env, state, data, JNI_ABORT);
  failed(env, st);
}

typedef struct sink_call {
  JNIEnv* env;
  jobject sink;
  jmethodID on_token;
} sink_call;

static int on_token(int32_t token, const char* text, size_t length, void* user) {
  sink_call* c = (sink_call*)user;
  JNIEnv* env = c->env;
  if ((*env)->ExceptionCheck(env)) return 1;
  jbyteArray bytes = (*env)->NewByteArray(env, (jsize)length);
  if (!bytes) return 1;
  (*env)->SetByteArrayRegion(env, bytes, 0, (jsize)length, (const jbyte*)text);
  jboolean go_on = (*env)->CallBooleanMethod(env, c->sink, c->on_token, (jint)token, bytes);
  (*env)->DeleteLocalRef(env, bytes);
  /* A listener that threw stops generation; its exception reaches the caller. */
  return (*env)->ExceptionCheck(env) || !go_on;
}

JNIEXPORT jint JNICALL FN(generate)(JNIEnv* env, jclass cls, jlong session, jlong sampler, jintArray prompt,
                                    jint max_tokens, jobject sink) {
  if (!prompt || !sink) {
    throw_arg(env, "prompt and listener must not be null");
    return 0;
  }
  if (max_tokens < 0) {
    throw_arg(env, "maxTokens is negative");
    return 0;
  }
  jclass sink_cls = (*env)->GetObjectClass(env, sink);
  jmethodID mid = (*env)->GetMethodID(env, sink_cls, "onToken", "(I[B)Z");
  if (!mid) return 0;
  const jsize n = (*env)->GetArrayLength(env, prompt);
  jint* ids = (*env)->GetIntArrayElements(env, prompt, NULL);
  if (!ids) return 0;
  sink_call call = {env, sink, mid};
  size_t generated = 0;
  S(session)->cancel = 0;
  ord_status st = ord_generate(S(session)->session, P(sampler), (const int32_t*)ids, (size_t)n,
                               (size_t)max_tokens, on_token, &call, &generated);
  (*env)->ReleaseIntArrayElements(env, prompt, ids, JNI_ABORT);
  if ((*env)->ExceptionCheck(env)) return (jint)generated;
  failed(env, st);
  return (jint)generated;
}

JNIEXPORT jlong JNICALL FN(samplerCreate)(JNIEnv* env, jclass cls, jint vocab, jfloat temperature,
                                          jfloat top_p, jint top_k, jfloat min_p, jfloat rep, jfloat freq,
                                          jfloat pres, jint window, jlong seed) {
  if (vocab <= 0 || top_k < 0 || window < 0) {
    throw_arg(env, "vocabSize must be > 0, topK and penaltyWindow >= 0");
    return 0;
  }
  ord_sampler_params p = ord_sampler_default_params();
  p.temperature = temperature;
  p.top_p = top_p;
  p.top_k = (uint32_t)top_k;
  p.min_p = min_p;
  p.repetition_penalty = rep;
  p.frequency_penalty = freq;
  p.presence_penalty = pres;
  p.penalty_window = (uint32_t)window;
  p.seed = (uint64_t)seed;
  ord_sampler* s = NULL;
  return failed(env, ord_sampler_create_chain((size_t)vocab, &p, &s)) ? 0 : (jlong)(intptr_t)s;
}

JNIEXPORT void JNICALL FN(samplerFree)(JNIEnv* env, jclass cls, jlong sampler) {
  ord_sampler_free(P(sampler));
}

JNIEXPORT void JNICALL FN(samplerSetLogitBias)(JNIEnv* env, jclass cls, jlong sampler, jint token,
                                               jfloat bias) {
  failed(env, ord_sampler_set_logit_bias(P(sampler), token, bias));
}

JNIEXPORT jint JNICALL FN(samplerSample)(JNIEnv* env, jclass cls, jlong sampler, jlong session) {
  int32_t token = -1;
  failed(env, ord_sampler_sample(P(sampler), S(session)->session, &token));
  return token;
}
