/* coders.accel._speedups: coderkit's one accelerated path (optional; the pure-Python coders are the reference).
 *
 * Everything here is "fast path or fall back": the pure-Python code stays the reference.
 *
 *   varint_methods(cls, encode_fallback, decode_fallback) -> (encode, decode)
 *       Method descriptors for VarIntCoder.encode/decode (same bytes in both contexts).
 *       They handle an exact int in the int64 range / an exact bytes object holding one
 *       well-formed varint; anything else calls fallback(self, value), the pure-Python
 *       method, which returns the result or raises the precise EncodeError/DecodeError.
 *
 *   Codec(spec, nested, encode_fallback, decode_fallback)
 *       A coder tree (varint, str, bytes, float, bool, None, nullable, tuple, list, map,
 *       record, "ref" back to an enclosing node for a recursive type, or "generic": any other
 *       coder called through Python), as coders.accel.spec builds it from each coder's
 *       accel_node(), compiled once into C nodes. encode/decode run the tree; at the first
 *       surprise (a wrong type, a bad byte, any exception inside, a value deeper than the
 *       recursion limit) they drop what they did and call the fallback, the reference path,
 *       once with the original argument, so results and errors are always the reference's.
 *       raw_encode/raw_decode do the same without the fallback (for differential tests):
 *       they raise the inner exception or Unhandled.
 *
 *   load_spark_batches(...), contains(data, needle)
 *       pickling.spark's per-record loop over Spark's Java-serialized byte[][] (unpickling each
 *       batch), stopping exactly where the Python loop would; and a memchr-driven `needle in data`.
 *
 * Bounds: every read checks the remaining length first; counts are checked against the
 * bytes left before anything is allocated; nothing reads past the end of the buffer.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static PyObject *Unhandled;  /* raised by raw_* when the C path does not handle an input */

/* Most elements a collection of zero-width elements (NoneCoder) may claim beyond the bytes left:
   coders.collections.ZERO_WIDTH_LIMIT (a test checks the two agree). */
#define ZERO_WIDTH_LIMIT (1 << 20)

/* ------------------------------------------------------------------ output buffer */

typedef struct {
    char *p;
    Py_ssize_t len, cap;
    char small[512];
} Buf;

static void buf_init(Buf *b) { b->p = b->small; b->len = 0; b->cap = (Py_ssize_t)sizeof b->small; }
static void buf_free(Buf *b) { if (b->p != b->small) PyMem_Free(b->p); }

static int buf_reserve(Buf *b, Py_ssize_t extra)
{
    if (extra <= b->cap - b->len)
        return 0;
    if (extra > PY_SSIZE_T_MAX / 2 - b->len) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t need = b->len + extra, cap = b->cap;
    while (cap < need)
        cap *= 2;
    char *np;
    if (b->p == b->small) {
        np = PyMem_Malloc((size_t)cap);
        if (np != NULL)
            memcpy(np, b->small, (size_t)b->len);
    } else {
        np = PyMem_Realloc(b->p, (size_t)cap);
    }
    if (np == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->p = np;
    b->cap = cap;
    return 0;
}

static int buf_put(Buf *b, const char *s, Py_ssize_t n)
{
    if (buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->p + b->len, s, (size_t)n);
    b->len += n;
    return 0;
}

static int buf_varint(Buf *b, uint64_t v)
{
    if (buf_reserve(b, 10) < 0)
        return -1;
    unsigned char *q = (unsigned char *)b->p + b->len;
    while (v >= 0x80) {
        *q++ = (unsigned char)((v & 0x7F) | 0x80);
        v >>= 7;
    }
    *q++ = (unsigned char)v;
    b->len = (char *)q - b->p;
    return 0;
}

static int buf_int32(Buf *b, Py_ssize_t n)
{
    unsigned char q[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n};
    return buf_put(b, (const char *)q, 4);
}

/* ------------------------------------------------------------------ varints */

/* An exact int in the int64 range, as its unsigned two's complement; -1 (no exception) otherwise. */
static int int64_of(PyObject *x, uint64_t *out)
{
    int overflow = 0;
    if (!PyLong_CheckExact(x))
        return -1;
#if PY_VERSION_HEX < 0x030C0000
    /* CPython 3.11's layout: an int of at most one digit (30 bits) is its sign times ob_digit[0] */
    Py_ssize_t size = Py_SIZE(x);
    if (size >= -1 && size <= 1) {
        long long small = size ? (long long)((PyLongObject *)x)->ob_digit[0] : 0;
        *out = (uint64_t)(size < 0 ? -small : small);
        return 0;
    }
#endif
    long long v = PyLong_AsLongLongAndOverflow(x, &overflow);
    if (overflow)
        return -1;
    if (v == -1 && PyErr_Occurred())
        return -1;
    *out = (uint64_t)v;
    return 0;
}

/* One varint at *pos; 0 and *pos advanced, or -1 when truncated, over-long or beyond 64 bits. */
static int read_varint(const unsigned char *d, Py_ssize_t len, Py_ssize_t *pos, uint64_t *out)
{
    Py_ssize_t p = *pos;
    uint64_t r = 0;
    for (int i = 0; i < 9; i++) {
        if (p >= len)
            return -1;
        unsigned char c = d[p++];
        r |= (uint64_t)(c & 0x7F) << (7 * i);
        if (c < 0x80) {
            *pos = p;
            *out = r;
            return 0;
        }
    }
    if (p >= len || d[p] > 1)  /* the tenth byte holds bit 63 only */
        return -1;
    r |= (uint64_t)d[p] << 63;
    *pos = p + 1;
    *out = r;
    return 0;
}

static PyObject *varint_encode_fallback, *varint_decode_fallback;

static PyObject *varint_encode(PyObject *self, PyObject *value)
{
    uint64_t v;
    if (int64_of(value, &v) == 0) {
        unsigned char q[10];
        int n = 0;
        while (v >= 0x80) {
            q[n++] = (unsigned char)((v & 0x7F) | 0x80);
            v >>= 7;
        }
        q[n++] = (unsigned char)v;
        return PyBytes_FromStringAndSize((const char *)q, n);
    }
    PyErr_Clear();
    return PyObject_CallFunctionObjArgs(varint_encode_fallback, self, value, NULL);
}

static PyObject *varint_decode(PyObject *self, PyObject *data)
{
    if (PyBytes_CheckExact(data)) {
        Py_ssize_t len = PyBytes_GET_SIZE(data), pos = 0;
        uint64_t v;
        if (read_varint((const unsigned char *)PyBytes_AS_STRING(data), len, &pos, &v) == 0 && pos == len)
            return PyLong_FromLongLong((long long)v);
    }
    return PyObject_CallFunctionObjArgs(varint_decode_fallback, self, data, NULL);
}

static PyMethodDef varint_encode_def = {"encode", (PyCFunction)varint_encode, METH_O,
                                        "Encode an int64 as a varint (C; the pure-Python method on any other input)."};
static PyMethodDef varint_decode_def = {"decode", (PyCFunction)varint_decode, METH_O,
                                        "Decode one varint filling the bytes (C; the pure-Python method otherwise)."};

static PyObject *varint_methods(PyObject *module, PyObject *args)
{
    PyObject *enc, *dec;
    PyTypeObject *cls;
    if (!PyArg_ParseTuple(args, "O!OO:varint_methods", &PyType_Type, &cls, &enc, &dec))
        return NULL;
    Py_INCREF(enc);
    Py_XSETREF(varint_encode_fallback, enc);
    Py_INCREF(dec);
    Py_XSETREF(varint_decode_fallback, dec);
    /* bound like methods of cls: `self` is always a cls instance, as for the Python methods */
    PyObject *e = PyDescr_NewMethod(cls, &varint_encode_def);
    PyObject *d = e ? PyDescr_NewMethod(cls, &varint_decode_def) : NULL;
    if (d == NULL) {
        Py_XDECREF(e);
        return NULL;
    }
    return Py_BuildValue("(NN)", e, d);
}

/* ------------------------------------------------------------------ coder trees */

enum Kind { K_VARINT, K_STR, K_BYTES, K_FLOAT, K_CFLOAT, K_BOOL, K_NONE, K_NULLABLE, K_TUPLE,
            K_LIST, K_TUPLESEQ, K_ITERABLE, K_MAP, K_RECORD, K_GENERIC, K_REF, K_ANY, K_ROW };

static const char *kind_names[] = {"varint", "str", "bytes", "float", "cfloat", "bool", "none", "nullable", "tuple",
                                   "list", "tupleseq", "iterable", "map", "record", "generic", "ref", "any", "row", NULL};

typedef struct Node {
    int kind;
    Py_ssize_t n;          /* children (tuple components, record fields; 1 for sequences and nullable, 2 for maps) */
    struct Node **kids;
    Py_ssize_t min_size;   /* sequences: fewest bytes per element; maps: per entry */
    int is_tuple;          /* record of a tuple subclass (NamedTuple) */
    PyObject *cls, *names, *build;                 /* record */
    PyObject *enc_outer, *enc_nested, *dec_from;   /* generic */
    struct Node *target;   /* ref: the enclosing node it stands for (a recursive type; not owned) */
    PyObject *nullable;    /* row: bytes, one 0/1 per field (may the field be None?) */
} Node;

/* Most ref nodes one value may pass through (its recursion depth): the smaller of Python's recursion
   limit and this cap, which keeps the C stack bounded. Deeper values go to the reference path, which
   raises the EncodeError/DecodeError naming the limit (or succeeds under a raised limit). */
#define MAX_REF_DEPTH 5000

static int ref_depth_limit(void)
{
    int limit = Py_GetRecursionLimit();
    return limit < MAX_REF_DEPTH ? limit : MAX_REF_DEPTH;
}

static void node_free(Node *nd)
{
    if (nd == NULL)
        return;
    for (Py_ssize_t i = 0; i < nd->n; i++)
        node_free(nd->kids[i]);
    PyMem_Free(nd->kids);
    Py_XDECREF(nd->cls);
    Py_XDECREF(nd->names);
    Py_XDECREF(nd->build);
    Py_XDECREF(nd->enc_outer);
    Py_XDECREF(nd->enc_nested);
    Py_XDECREF(nd->dec_from);
    Py_XDECREF(nd->nullable);
    PyMem_Free(nd);
}

static int node_traverse(Node *nd, visitproc visit, void *arg)
{
    if (nd == NULL)
        return 0;
    Py_VISIT(nd->cls);
    Py_VISIT(nd->names);
    Py_VISIT(nd->build);
    Py_VISIT(nd->enc_outer);
    Py_VISIT(nd->enc_nested);
    Py_VISIT(nd->dec_from);
    Py_VISIT(nd->nullable);
    for (Py_ssize_t i = 0; i < nd->n; i++) {
        int r = node_traverse(nd->kids[i], visit, arg);
        if (r)
            return r;
    }
    return 0;
}

#define MAX_SPEC_DEPTH 200

static Node *node_from_spec(PyObject *spec, int depth, Node **stack);

static int node_kids(Node *nd, PyObject *specs, int depth, Node **stack)
{
    if (!PyTuple_Check(specs)) {
        PyErr_SetString(PyExc_TypeError, "Codec spec: children must be a tuple of specs");
        return -1;
    }
    nd->kids = PyMem_Calloc((size_t)PyTuple_GET_SIZE(specs) + 1, sizeof(Node *));
    if (nd->kids == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(specs); i++) {
        nd->kids[i] = node_from_spec(PyTuple_GET_ITEM(specs, i), depth + 1, stack);
        if (nd->kids[i] == NULL)
            return -1;
        nd->n = i + 1;
    }
    return 0;
}

/* spec: (kind name, ...) as built by coders.accel.spec; see the kinds below. stack[i] is the node
   being built at depth i, which a ("ref", i) node below it stands for. */
static Node *node_from_spec(PyObject *spec, int depth, Node **stack)
{
    if (depth >= MAX_SPEC_DEPTH) {
        PyErr_SetString(PyExc_RecursionError, "Codec spec nested too deeply");
        return NULL;
    }
    if (!PyTuple_Check(spec) || PyTuple_GET_SIZE(spec) < 1 || !PyUnicode_Check(PyTuple_GET_ITEM(spec, 0))) {
        PyErr_SetString(PyExc_TypeError, "Codec spec: expected a tuple starting with a kind name");
        return NULL;
    }
    int kind = -1;
    for (int k = 0; kind_names[k] != NULL; k++)
        if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(spec, 0), kind_names[k]) == 0)
            kind = k;
    if (kind < 0) {
        PyErr_Format(PyExc_ValueError, "Codec spec: unknown kind %R", PyTuple_GET_ITEM(spec, 0));
        return NULL;
    }
    Node *nd = PyMem_Calloc(1, sizeof(Node));
    if (nd == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    nd->kind = kind;
    stack[depth] = nd;
    PyObject *kids = NULL, *a = NULL, *b = NULL, *c = NULL;
    Py_ssize_t size = 0;
    int ok = 1;
    switch (kind) {
    case K_NULLABLE:
        ok = PyArg_ParseTuple(spec, "OO:nullable", &a, &b);
        if (ok) {
            kids = PyTuple_Pack(1, b);
            ok = kids && node_kids(nd, kids, depth, stack) == 0;
        }
        break;
    case K_TUPLE:
        ok = PyArg_ParseTuple(spec, "OO!:tuple", &a, &PyTuple_Type, &b) && node_kids(nd, b, depth, stack) == 0;
        break;
    case K_LIST: case K_TUPLESEQ: case K_ITERABLE:
        ok = PyArg_ParseTuple(spec, "OOn:sequence", &a, &b, &size);
        if (ok) {
            nd->min_size = size;
            kids = PyTuple_Pack(1, b);
            ok = kids && node_kids(nd, kids, depth, stack) == 0;
        }
        break;
    case K_MAP:
        ok = PyArg_ParseTuple(spec, "OOOn:map", &a, &b, &c, &size);
        if (ok) {
            nd->min_size = size;
            kids = PyTuple_Pack(2, b, c);
            ok = kids && node_kids(nd, kids, depth, stack) == 0;
        }
        break;
    case K_RECORD: case K_ROW: {
        /* ("record", cls, names, build, is_tuple, fields); a row adds its nullable bytes before fields */
        PyObject *cls, *names, *build, *fields, *nullable = NULL;
        ok = kind == K_RECORD
                 ? PyArg_ParseTuple(spec, "OOO!OpO!:record", &a, &cls, &PyTuple_Type, &names, &build, &nd->is_tuple,
                                    &PyTuple_Type, &fields)
                 : PyArg_ParseTuple(spec, "OOO!OpO!O!:row", &a, &cls, &PyTuple_Type, &names, &build, &nd->is_tuple,
                                    &PyBytes_Type, &nullable, &PyTuple_Type, &fields);
        if (ok && (PyTuple_GET_SIZE(names) != PyTuple_GET_SIZE(fields) ||
                   (nullable != NULL && PyBytes_GET_SIZE(nullable) != PyTuple_GET_SIZE(fields)))) {
            PyErr_SetString(PyExc_ValueError, "Codec spec: record names, nullability and fields differ in length");
            ok = 0;
        }
        if (ok) {
            Py_INCREF(cls);
            nd->cls = cls;
            Py_INCREF(names);
            nd->names = names;
            Py_INCREF(build);
            nd->build = build;
            Py_XINCREF(nullable);
            nd->nullable = nullable;
            ok = node_kids(nd, fields, depth, stack) == 0;
        }
        break;
    }
    case K_GENERIC:
        ok = PyArg_ParseTuple(spec, "OOOO:generic", &a, &nd->enc_outer, &nd->enc_nested, &nd->dec_from);
        if (ok) {
            Py_INCREF(nd->enc_outer);
            Py_INCREF(nd->enc_nested);
            Py_INCREF(nd->dec_from);
        } else {
            nd->enc_outer = nd->enc_nested = nd->dec_from = NULL;
        }
        break;
    case K_REF: {
        Py_ssize_t at;
        ok = PyArg_ParseTuple(spec, "On:ref", &a, &at);
        if (ok && (at < 0 || at >= depth)) {
            PyErr_SetString(PyExc_ValueError, "Codec spec: a ref must name an enclosing node");
            ok = 0;
        }
        if (ok)
            nd->target = stack[at];
        break;
    }
    default:
        break;
    }
    Py_XDECREF(kids);
    if (!ok) {
        node_free(nd);
        return NULL;
    }
    return nd;
}

/* ---- encoding: 0 on success, -1 on a surprise (an exception may be set) */

static int enc(Node *nd, PyObject *x, int nested, Buf *b, int depth);

/* A tuple (or list) whose iteration, length and indexing are the built-in ones, so reading its
   storage directly gives what the reference path's iteration gives (a NamedTuple qualifies; a
   subclass overriding __iter__, __len__ or __getitem__ goes to the reference path). */
static int plain_as(PyObject *x, PyTypeObject *base)
{
    PyTypeObject *t = Py_TYPE(x);
    if (t == base)
        return 1;
    if (!PyType_IsSubtype(t, base))
        return 0;
    /* (sq_item is no test: every heap subclass gets a generic one, as __getitem__ wraps mp_subscript) */
    return t->tp_iter == base->tp_iter && t->tp_as_sequence->sq_length == base->tp_as_sequence->sq_length &&
           t->tp_as_mapping->mp_subscript == base->tp_as_mapping->mp_subscript;
}

static int enc_seq_items(Node *nd, PyObject *x, Buf *b, int depth)
{
    Py_ssize_t n = PySequence_Fast_GET_SIZE(x);
    if (n > 0x7FFFFFFF || buf_int32(b, n) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PySequence_Fast_GET_SIZE(x) != n)  /* a generic element coder changed the list */
            return -1;
        PyObject *item = PySequence_Fast_GET_ITEM(x, i);
        Py_INCREF(item);
        int r = enc(nd->kids[0], item, 1, b, depth);
        Py_DECREF(item);
        if (r < 0)
            return -1;
    }
    return PySequence_Fast_GET_SIZE(x) == n ? 0 : -1;
}

/* An exact str as UTF-8, length-prefixed when nested; -1 for anything else (lone surrogates included). */
static int enc_str(PyObject *x, int nested, Buf *b)
{
    if (!PyUnicode_CheckExact(x))
        return -1;
    if (PyUnicode_IS_ASCII(x)) {  /* its characters are its UTF-8 bytes */
        Py_ssize_t n = PyUnicode_GET_LENGTH(x);
        if (nested && buf_varint(b, (uint64_t)n) < 0)
            return -1;
        return buf_put(b, (const char *)PyUnicode_DATA(x), n);
    }
    /* a temporary bytes, not PyUnicode_AsUTF8AndSize, which would keep a UTF-8 copy in every str */
    PyObject *raw = PyUnicode_AsUTF8String(x);  /* fails on lone surrogates */
    if (raw == NULL)
        return -1;
    int r = (nested && buf_varint(b, (uint64_t)PyBytes_GET_SIZE(raw)) < 0) ? -1
            : buf_put(b, PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw));
    Py_DECREF(raw);
    return r;
}

/* ---- AnyCoder (coders.dynamic): Beam's FastPrimitivesCoder tags for exact builtin types.
   None 00, int 01 varint (int64 only), float 02 double, bytes 03, str 04 (length-prefixed when
   nested), list 05 / tuple 06 (varint count, elements nested), dict 07 (count, key, value),
   set 08 / frozenset 15 (count, elements), bool 09 byte. Anything else (a subclass, a big int,
   an object that would be pickled) is a surprise: the reference path codes the whole value. */

static int enc_any(PyObject *x, int nested, Buf *b, int depth);

static int enc_any_items(PyObject *x, char tag, Buf *b, int depth)
{
    Py_ssize_t n = PySequence_Fast_GET_SIZE(x);
    if (buf_put(b, &tag, 1) < 0 || buf_varint(b, (uint64_t)n) < 0)
        return -1;
    PyObject **items = PySequence_Fast_ITEMS(x);
    for (Py_ssize_t i = 0; i < n; i++)
        if (enc_any(items[i], 1, b, depth + 1) < 0)
            return -1;
    return 0;
}

static int enc_any(PyObject *x, int nested, Buf *b, int depth)
{
    PyTypeObject *t = Py_TYPE(x);
    if (x == Py_None)
        return buf_put(b, "\x00", 1);
    if (t == &PyLong_Type) {
        uint64_t v;
        if (int64_of(x, &v) < 0 || buf_put(b, "\x01", 1) < 0)
            return -1;
        return buf_varint(b, v);
    }
    if (t == &PyUnicode_Type)
        return buf_put(b, "\x04", 1) < 0 ? -1 : enc_str(x, nested, b);
    if (t == &PyFloat_Type) {
        if (buf_put(b, "\x02", 1) < 0 || buf_reserve(b, 8) < 0)
            return -1;
        if (PyFloat_Pack8(PyFloat_AS_DOUBLE(x), b->p + b->len, 0) < 0)
            return -1;
        b->len += 8;
        return 0;
    }
    if (t == &PyBool_Type)
        return buf_put(b, x == Py_True ? "\x09\x01" : "\x09\x00", 2);
    if (t == &PyBytes_Type) {
        if (buf_put(b, "\x03", 1) < 0 || (nested && buf_varint(b, (uint64_t)PyBytes_GET_SIZE(x)) < 0))
            return -1;
        return buf_put(b, PyBytes_AS_STRING(x), PyBytes_GET_SIZE(x));
    }
    if (depth >= ref_depth_limit())  /* deeper than the recursion limit (or a cycle): the reference says which */
        return -1;
    if (t == &PyList_Type)
        return enc_any_items(x, 0x05, b, depth);
    if (t == &PyTuple_Type)
        return enc_any_items(x, 0x06, b, depth);
    if (t == &PyDict_Type) {
        Py_ssize_t n = PyDict_GET_SIZE(x), it = 0, seen = 0;
        PyObject *k, *v;
        if (buf_put(b, "\x07", 1) < 0 || buf_varint(b, (uint64_t)n) < 0)
            return -1;
        while (PyDict_Next(x, &it, &k, &v)) {  /* exact builtins only below: no Python code runs */
            if (enc_any(k, 1, b, depth + 1) < 0 || enc_any(v, 1, b, depth + 1) < 0 || ++seen > n)
                return -1;
        }
        return seen == n ? 0 : -1;
    }
    if (t == &PySet_Type || t == &PyFrozenSet_Type) {
        Py_ssize_t n = PySet_GET_SIZE(x), seen = 0;
        char tag = t == &PySet_Type ? 0x08 : 0x15;
        if (buf_put(b, &tag, 1) < 0 || buf_varint(b, (uint64_t)n) < 0)
            return -1;
        PyObject *it = PyObject_GetIter(x), *key;  /* an exact set's iterator runs no Python code */
        if (it == NULL)
            return -1;
        int r = 0;
        while (r == 0 && (key = PyIter_Next(it)) != NULL) {
            r = (enc_any(key, 1, b, depth + 1) < 0 || ++seen > n) ? -1 : 0;
            Py_DECREF(key);
        }
        Py_DECREF(it);
        return (r == 0 && !PyErr_Occurred() && seen == n) ? 0 : -1;
    }
    return -1;
}

static int enc(Node *nd, PyObject *x, int nested, Buf *b, int depth);

/* Beam's row (coders.rows.RowCoder): varint field count, the null bitmap (00 when no field is None,
   else a varint length and one bit per field, least significant first), then every field that is not
   None, nested. The same bytes in both contexts. A None in a field that is not nullable declines. */
static int enc_row(Node *nd, PyObject *x, Buf *b, int depth)
{
    Py_ssize_t n = nd->n;
    if ((PyObject *)Py_TYPE(x) != nd->cls || n > 4096)
        return -1;
    PyObject *small[32], **values = n <= 32 ? small : PyMem_Malloc((size_t)n * sizeof(PyObject *));
    if (values == NULL)
        return -1;
    Py_ssize_t got = 0;
    int r = -1;
    if (nd->is_tuple) {
        if (!plain_as(x, &PyTuple_Type) || PyTuple_GET_SIZE(x) != n)
            goto done;
        for (; got < n; got++) {
            values[got] = PyTuple_GET_ITEM(x, got);
            Py_INCREF(values[got]);
        }
    } else {
        for (; got < n; got++) {
            values[got] = PyObject_GetAttr(x, PyTuple_GET_ITEM(nd->names, got));
            if (values[got] == NULL)
                goto done;
        }
    }
    const char *nullable = PyBytes_AS_STRING(nd->nullable);
    unsigned char mask[512];
    Py_ssize_t mask_len = (n + 7) / 8;
    int any_null = 0;
    memset(mask, 0, (size_t)mask_len);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (values[i] == Py_None) {
            if (!nullable[i])
                goto done;
            mask[i >> 3] |= (unsigned char)(1 << (i & 7));
            any_null = 1;
        }
    }
    if (buf_varint(b, (uint64_t)n) < 0)
        goto done;
    if (any_null ? (buf_varint(b, (uint64_t)mask_len) < 0 || buf_put(b, (const char *)mask, mask_len) < 0)
                 : buf_put(b, "\x00", 1) < 0)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++)
        if (values[i] != Py_None && enc(nd->kids[i], values[i], 1, b, depth) < 0)
            goto done;
    r = 0;
done:
    for (Py_ssize_t i = 0; i < got; i++)
        Py_DECREF(values[i]);
    if (values != small)
        PyMem_Free(values);
    return r;
}

static int enc(Node *nd, PyObject *x, int nested, Buf *b, int depth)
{
    switch (nd->kind) {
    case K_VARINT: {
        uint64_t v;
        if (int64_of(x, &v) < 0)
            return -1;
        return buf_varint(b, v);
    }
    case K_STR:
        return enc_str(x, nested, b);
    case K_ANY:
        return enc_any(x, nested, b, depth);
    case K_BYTES:
        if (!PyBytes_CheckExact(x))
            return -1;
        if (nested && buf_varint(b, (uint64_t)PyBytes_GET_SIZE(x)) < 0)
            return -1;
        return buf_put(b, PyBytes_AS_STRING(x), PyBytes_GET_SIZE(x));
    case K_FLOAT: case K_CFLOAT: {
        if (!PyFloat_CheckExact(x) || buf_reserve(b, 8) < 0)
            return -1;
        double v = PyFloat_AS_DOUBLE(x);
        unsigned char *q = (unsigned char *)b->p + b->len;
        if (nd->kind == K_CFLOAT && v != v) {
            static const unsigned char nan[8] = {0x7f, 0xf8, 0, 0, 0, 0, 0, 0};
            memcpy(q, nan, 8);
        } else if (nd->kind == K_CFLOAT && v == 0.0) {
            memset(q, 0, 8);
        } else if (PyFloat_Pack8(v, (char *)q, 0) < 0) {
            return -1;
        }
        b->len += 8;
        return 0;
    }
    case K_BOOL:
        if (x == Py_True)
            return buf_put(b, "\x01", 1);
        if (x == Py_False)
            return buf_put(b, "\x00", 1);
        return -1;
    case K_NONE:
        return x == Py_None ? 0 : -1;
    case K_NULLABLE:
        if (x == Py_None)
            return buf_put(b, "\x00", 1);
        if (buf_put(b, "\x01", 1) < 0)
            return -1;
        return enc(nd->kids[0], x, nested, b, depth);
    case K_TUPLE: {
        if (!plain_as(x, &PyTuple_Type) || PyTuple_GET_SIZE(x) != nd->n)
            return -1;
        for (Py_ssize_t i = 0; i < nd->n; i++)
            if (enc(nd->kids[i], PyTuple_GET_ITEM(x, i), nested || i < nd->n - 1, b, depth) < 0)
                return -1;
        return 0;
    }
    case K_LIST:
        return plain_as(x, &PyList_Type) ? enc_seq_items(nd, x, b, depth) : -1;
    case K_TUPLESEQ:
        return plain_as(x, &PyTuple_Type) ? enc_seq_items(nd, x, b, depth) : -1;
    case K_ITERABLE:
        return (plain_as(x, &PyList_Type) || plain_as(x, &PyTuple_Type)) ? enc_seq_items(nd, x, b, depth) : -1;
    case K_MAP: {
        if (!PyDict_CheckExact(x))
            return -1;
        Py_ssize_t n = PyDict_GET_SIZE(x), it = 0, seen = 0;
        PyObject *k, *v;
        if (n > 0x7FFFFFFF || buf_int32(b, n) < 0)
            return -1;
        while (PyDict_Next(x, &it, &k, &v)) {
            Py_INCREF(k);
            Py_INCREF(v);
            int r = enc(nd->kids[0], k, 1, b, depth);
            if (r == 0)
                r = enc(nd->kids[1], v, 1, b, depth);
            Py_DECREF(k);
            Py_DECREF(v);
            if (r < 0 || ++seen > n)
                return -1;
        }
        return (seen == n && PyDict_GET_SIZE(x) == n) ? 0 : -1;
    }
    case K_RECORD: {
        if ((PyObject *)Py_TYPE(x) != nd->cls)
            return -1;
        if (nd->is_tuple) {
            if (!plain_as(x, &PyTuple_Type) || PyTuple_GET_SIZE(x) != nd->n)
                return -1;
            for (Py_ssize_t i = 0; i < nd->n; i++)
                if (enc(nd->kids[i], PyTuple_GET_ITEM(x, i), nested || i < nd->n - 1, b, depth) < 0)
                    return -1;
            return 0;
        }
        for (Py_ssize_t i = 0; i < nd->n; i++) {
            PyObject *field = PyObject_GetAttr(x, PyTuple_GET_ITEM(nd->names, i));
            if (field == NULL)
                return -1;
            int r = enc(nd->kids[i], field, nested || i < nd->n - 1, b, depth);
            Py_DECREF(field);
            if (r < 0)
                return -1;
        }
        return 0;
    }
    case K_REF:
        if (depth >= ref_depth_limit())
            return -1;
        return enc(nd->target, x, nested, b, depth + 1);
    case K_ROW:
        return enc_row(nd, x, b, depth);
    case K_GENERIC: {
        PyObject *raw = PyObject_CallOneArg(nested ? nd->enc_nested : nd->enc_outer, x);
        if (raw == NULL)
            return -1;
        int r = PyBytes_Check(raw) ? buf_put(b, PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw)) : -1;
        Py_DECREF(raw);
        return r;
    }
    }
    return -1;
}

/* ---- decoding: a new reference, or NULL on a surprise (an exception may be set) */

typedef struct {
    PyObject *data;              /* the bytes object (generic decoders take it) */
    const unsigned char *d;
    Py_ssize_t len;
} Input;

static PyObject *dec(Node *nd, Input *in, Py_ssize_t *pos, int nested, int depth);

/* A varint length or count at *pos that fits in what remains. */
static int read_length(Input *in, Py_ssize_t *pos, Py_ssize_t *out)
{
    uint64_t n;
    if (read_varint(in->d, in->len, pos, &n) < 0 || n > (uint64_t)(in->len - *pos))
        return -1;
    *out = (Py_ssize_t)n;
    return 0;
}

/* An int32 count at *pos, checked against the bytes left at min_size bytes per element. */
static int read_count(Input *in, Py_ssize_t *pos, Py_ssize_t min_size, Py_ssize_t *out)
{
    if (in->len - *pos < 4)
        return -1;
    const unsigned char *q = in->d + *pos;
    int32_t n = (int32_t)(((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) | ((uint32_t)q[2] << 8) | q[3]);
    *pos += 4;
    Py_ssize_t left = in->len - *pos;
    if (n < 0)  /* Beam's unknown-length form (or garbage): the reference path reads it */
        return -1;
    if (min_size ? (Py_ssize_t)n > left / min_size : ((Py_ssize_t)n > left && n > ZERO_WIDTH_LIMIT))
        return -1;
    *out = n;
    return 0;
}

static PyObject *dec_any(Input *in, Py_ssize_t *pos, int nested, int depth);

/* Dict keys repeat from value to value (the same field names in every row): short ASCII keys are
   looked up in a small cache of str objects instead of building a new str each time (as msgspec does).
   A slot holds one str; a collision simply replaces it. Only exact, immutable str objects are shared. */
#define KEY_CACHE_SIZE 512
#define KEY_CACHE_MAX_LEN 32
static PyObject *key_cache[KEY_CACHE_SIZE];

static PyObject *cached_key(const char *s, Py_ssize_t n)
{
    uint32_t h = 2166136261u;  /* FNV-1a */
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80)
            return PyUnicode_DecodeUTF8(s, n, NULL);  /* not ASCII: no caching */
        h = (h ^ c) * 16777619u;
    }
    PyObject **slot = &key_cache[h % KEY_CACHE_SIZE];
    PyObject *hit = *slot;
    if (hit != NULL && PyUnicode_GET_LENGTH(hit) == n && memcmp(PyUnicode_DATA(hit), s, (size_t)n) == 0) {
        Py_INCREF(hit);
        return hit;
    }
    PyObject *key = PyUnicode_DecodeUTF8(s, n, NULL);
    if (key != NULL) {
        Py_INCREF(key);
        Py_XSETREF(*slot, key);
    }
    return key;
}

/* A dict key: a str (tag 04, always nested here) through the cache, anything else as any value. */
static PyObject *dec_any_key(Input *in, Py_ssize_t *pos, int depth)
{
    Py_ssize_t p = *pos, n;
    if (p < in->len && in->d[p] == 0x04) {
        p++;
        if (read_length(in, &p, &n) < 0)
            return NULL;
        if (n <= KEY_CACHE_MAX_LEN) {
            *pos = p + n;
            return cached_key((const char *)in->d + p, n);
        }
    }
    return dec_any(in, pos, 1, depth);
}

/* A varint count at *pos that the bytes left can hold at one byte an element. */
static int read_any_count(Input *in, Py_ssize_t *pos, Py_ssize_t *out)
{
    uint64_t n;
    if (read_varint(in->d, in->len, pos, &n) < 0 || n > (uint64_t)(in->len - *pos))
        return -1;
    *out = (Py_ssize_t)n;
    return 0;
}

static PyObject *dec_any_items(Input *in, Py_ssize_t *pos, int depth, int as_tuple)
{
    Py_ssize_t n;
    if (read_any_count(in, pos, &n) < 0)
        return NULL;
    PyObject *items = as_tuple ? PyTuple_New(n) : PyList_New(n);
    if (items == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = dec_any(in, pos, 1, depth + 1);
        if (item == NULL) {
            Py_DECREF(items);
            return NULL;
        }
        if (as_tuple)
            PyTuple_SET_ITEM(items, i, item);
        else
            PyList_SET_ITEM(items, i, item);
    }
    return items;
}

static PyObject *dec_any(Input *in, Py_ssize_t *pos, int nested, int depth)
{
    const unsigned char *d = in->d;
    Py_ssize_t len = in->len;
    if (*pos >= len)
        return NULL;
    unsigned char tag = d[(*pos)++];
    switch (tag) {
    case 0x00:
        Py_RETURN_NONE;
    case 0x01: {
        uint64_t v;
        if (read_varint(d, len, pos, &v) < 0)
            return NULL;
        return PyLong_FromLongLong((long long)v);
    }
    case 0x02: {
        if (len - *pos < 8)
            return NULL;
        double v = PyFloat_Unpack8((const char *)d + *pos, 0);
        if (v == -1.0 && PyErr_Occurred())
            return NULL;
        *pos += 8;
        return PyFloat_FromDouble(v);
    }
    case 0x03: case 0x04: {
        Py_ssize_t n;
        if (nested) {
            if (read_length(in, pos, &n) < 0)
                return NULL;
        } else {
            n = len - *pos;
        }
        const char *s = (const char *)d + *pos;
        *pos += n;
        return tag == 0x03 ? PyBytes_FromStringAndSize(s, n) : PyUnicode_DecodeUTF8(s, n, NULL);
    }
    case 0x09:
        if (*pos >= len || d[*pos] > 1)
            return NULL;
        return PyBool_FromLong(d[(*pos)++]);
    }
    if (depth >= ref_depth_limit())
        return NULL;
    switch (tag) {
    case 0x05: case 0x06:
        return dec_any_items(in, pos, depth, tag == 0x06);
    case 0x07: {
        Py_ssize_t n;
        if (read_any_count(in, pos, &n) < 0)
            return NULL;
        PyObject *m = _PyDict_NewPresized(n);  /* sized once: no rehash while filling */
        if (m == NULL)
            return NULL;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *k = dec_any_key(in, pos, depth + 1);
            PyObject *v = k ? dec_any(in, pos, 1, depth + 1) : NULL;
            int r = v ? PyDict_SetItem(m, k, v) : -1;  /* an unhashable key fails: the reference names it */
            Py_XDECREF(k);
            Py_XDECREF(v);
            if (r < 0) {
                Py_DECREF(m);
                return NULL;
            }
        }
        return m;
    }
    case 0x08: case 0x15: {
        PyObject *items = dec_any_items(in, pos, depth, 0);
        if (items == NULL)
            return NULL;
        PyObject *set = tag == 0x08 ? PySet_New(items) : PyFrozenSet_New(items);
        Py_DECREF(items);
        return set;
    }
    }
    return NULL;  /* a big int, a pickled value or an unknown tag: the reference path */
}

static PyObject *dec(Node *nd, Input *in, Py_ssize_t *pos, int nested, int depth)
{
    const unsigned char *d = in->d;
    Py_ssize_t len = in->len;
    switch (nd->kind) {
    case K_VARINT: {
        uint64_t v;
        if (read_varint(d, len, pos, &v) < 0)
            return NULL;
        return PyLong_FromLongLong((long long)v);
    }
    case K_STR: case K_BYTES: {
        Py_ssize_t n;
        if (nested) {
            if (read_length(in, pos, &n) < 0)
                return NULL;
        } else {
            n = len - *pos;
        }
        const char *s = (const char *)d + *pos;
        *pos += n;
        if (nd->kind == K_BYTES)
            return PyBytes_FromStringAndSize(s, n);
        return PyUnicode_DecodeUTF8(s, n, NULL);
    }
    case K_FLOAT: case K_CFLOAT: {
        if (len - *pos < 8)
            return NULL;
        double v = PyFloat_Unpack8((const char *)d + *pos, 0);
        if (v == -1.0 && PyErr_Occurred())
            return NULL;
        *pos += 8;
        return PyFloat_FromDouble(v);
    }
    case K_BOOL: {
        if (*pos >= len || d[*pos] > 1)
            return NULL;
        return PyBool_FromLong(d[(*pos)++]);
    }
    case K_NONE:
        Py_RETURN_NONE;
    case K_NULLABLE: {
        if (*pos >= len || d[*pos] > 1)
            return NULL;
        if (d[(*pos)++] == 0)
            Py_RETURN_NONE;
        return dec(nd->kids[0], in, pos, nested, depth);
    }
    case K_TUPLE: case K_RECORD: {
        PyObject *t = PyTuple_New(nd->n);
        if (t == NULL)
            return NULL;
        for (Py_ssize_t i = 0; i < nd->n; i++) {
            PyObject *item = dec(nd->kids[i], in, pos, nested || i < nd->n - 1, depth);
            if (item == NULL) {
                Py_DECREF(t);
                return NULL;
            }
            PyTuple_SET_ITEM(t, i, item);
        }
        if (nd->kind == K_TUPLE)
            return t;
        PyObject *obj = PyObject_CallOneArg(nd->build, t);
        Py_DECREF(t);
        return obj;
    }
    case K_LIST: case K_TUPLESEQ: case K_ITERABLE: {
        Py_ssize_t n;
        if (read_count(in, pos, nd->min_size, &n) < 0)
            return NULL;
        PyObject *items = nd->kind == K_TUPLESEQ ? PyTuple_New(n) : PyList_New(n);
        if (items == NULL)
            return NULL;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *item = dec(nd->kids[0], in, pos, 1, depth);
            if (item == NULL) {
                Py_DECREF(items);  /* unset slots are NULL, which both deallocators skip */
                return NULL;
            }
            if (nd->kind == K_TUPLESEQ)
                PyTuple_SET_ITEM(items, i, item);
            else
                PyList_SET_ITEM(items, i, item);
        }
        return items;
    }
    case K_MAP: {
        Py_ssize_t n;
        if (read_count(in, pos, nd->min_size, &n) < 0)
            return NULL;
        PyObject *m = _PyDict_NewPresized(n);  /* sized once: no rehash while filling */
        if (m == NULL)
            return NULL;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *k = dec(nd->kids[0], in, pos, 1, depth);
            PyObject *v = k ? dec(nd->kids[1], in, pos, 1, depth) : NULL;
            int r = v ? PyDict_SetItem(m, k, v) : -1;
            Py_XDECREF(k);
            Py_XDECREF(v);
            if (r < 0) {
                Py_DECREF(m);
                return NULL;
            }
        }
        if (PyDict_GET_SIZE(m) != n) {  /* a repeated key: the reference path names it */
            Py_DECREF(m);
            return NULL;
        }
        return m;
    }
    case K_REF:
        if (depth >= ref_depth_limit())
            return NULL;
        return dec(nd->target, in, pos, nested, depth + 1);
    case K_ROW: {
        /* only rows written with exactly this schema's field count: evolution is the reference's */
        uint64_t count, mask_len;
        if (read_varint(d, len, pos, &count) < 0 || count != (uint64_t)nd->n)
            return NULL;
        if (read_varint(d, len, pos, &mask_len) < 0 || mask_len > (uint64_t)(len - *pos))
            return NULL;
        const unsigned char *mask = d + *pos;
        *pos += (Py_ssize_t)mask_len;
        const char *nullable = PyBytes_AS_STRING(nd->nullable);
        PyObject *t = PyTuple_New(nd->n);
        if (t == NULL)
            return NULL;
        for (Py_ssize_t i = 0; i < nd->n; i++) {
            PyObject *item;
            if ((uint64_t)(i >> 3) < mask_len && (mask[i >> 3] >> (i & 7)) & 1) {
                if (!nullable[i]) {
                    Py_DECREF(t);
                    return NULL;
                }
                item = Py_None;
                Py_INCREF(item);
            } else {
                item = dec(nd->kids[i], in, pos, 1, depth);
                if (item == NULL) {
                    Py_DECREF(t);
                    return NULL;
                }
            }
            PyTuple_SET_ITEM(t, i, item);
        }
        PyObject *obj = PyObject_CallOneArg(nd->build, t);
        Py_DECREF(t);
        return obj;
    }
    case K_ANY:
        return dec_any(in, pos, nested, depth);
    case K_GENERIC: {
        PyObject *p = PyLong_FromSsize_t(*pos);
        if (p == NULL)
            return NULL;
        PyObject *r = PyObject_CallFunctionObjArgs(nd->dec_from, in->data, p, nested ? Py_True : Py_False, NULL);
        Py_DECREF(p);
        if (r == NULL)
            return NULL;
        Py_ssize_t after = -1;
        if (PyTuple_CheckExact(r) && PyTuple_GET_SIZE(r) == 2 && PyLong_CheckExact(PyTuple_GET_ITEM(r, 1))) {
            after = PyLong_AsSsize_t(PyTuple_GET_ITEM(r, 1));
            if (after == -1 && PyErr_Occurred()) {
                Py_DECREF(r);
                return NULL;
            }
        }
        if (after < *pos || after > len) {
            Py_DECREF(r);
            return NULL;
        }
        PyObject *value = PyTuple_GET_ITEM(r, 0);
        Py_INCREF(value);
        Py_DECREF(r);
        *pos = after;
        return value;
    }
    }
    return NULL;
}

/* ------------------------------------------------------------------ the Codec type */

typedef struct {
    PyObject_HEAD
    Node *root;
    int nested;
    PyObject *encode_fallback, *decode_fallback;
} CodecObject;

/* Run the tree; NULL with an exception set when it did not handle the input. */
static PyObject *codec_try_encode(CodecObject *self, PyObject *value)
{
    Buf b;
    buf_init(&b);
    PyObject *out = NULL;
    if (enc(self->root, value, self->nested, &b, 0) == 0)
        out = PyBytes_FromStringAndSize(b.p, b.len);
    buf_free(&b);
    if (out == NULL && !PyErr_Occurred())
        PyErr_SetString(Unhandled, "input not handled by the C codec");
    return out;
}

static PyObject *codec_try_decode(CodecObject *self, PyObject *data)
{
    if (!PyBytes_CheckExact(data)) {
        PyErr_SetString(Unhandled, "the C codec decodes bytes only");
        return NULL;
    }
    Input in = {data, (const unsigned char *)PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data)};
    Py_ssize_t pos = 0;
    PyObject *value = dec(self->root, &in, &pos, self->nested, 0);
    if (value != NULL && pos != in.len)
        Py_CLEAR(value);
    if (value == NULL && !PyErr_Occurred())
        PyErr_SetString(Unhandled, "input not handled by the C codec");
    return value;
}

/* Only ordinary exceptions send the input to the reference path; KeyboardInterrupt and the like propagate. */
static int take_surprise(void)
{
    if (!PyErr_ExceptionMatches(PyExc_Exception))
        return -1;
    PyErr_Clear();
    return 0;
}

static PyObject *codec_encode(CodecObject *self, PyObject *value)
{
    PyObject *out = codec_try_encode(self, value);
    if (out != NULL || take_surprise() < 0)
        return out;
    return PyObject_CallOneArg(self->encode_fallback, value);
}

static PyObject *codec_decode(CodecObject *self, PyObject *data)
{
    PyObject *out = codec_try_decode(self, data);
    if (out != NULL || take_surprise() < 0)
        return out;
    return PyObject_CallOneArg(self->decode_fallback, data);
}

static int codec_init(CodecObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"spec", "nested", "encode_fallback", "decode_fallback", NULL};
    PyObject *spec, *ef, *df;
    int nested;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OpOO:Codec", kwlist, &spec, &nested, &ef, &df))
        return -1;
    Node *stack[MAX_SPEC_DEPTH];
    Node *root = node_from_spec(spec, 0, stack);
    if (root == NULL)
        return -1;
    node_free(self->root);
    self->root = root;
    self->nested = nested;
    Py_INCREF(ef);
    Py_XSETREF(self->encode_fallback, ef);
    Py_INCREF(df);
    Py_XSETREF(self->decode_fallback, df);
    return 0;
}

static int codec_traverse(CodecObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->encode_fallback);
    Py_VISIT(self->decode_fallback);
    return node_traverse(self->root, visit, arg);
}

static int codec_clear(CodecObject *self)
{
    Py_CLEAR(self->encode_fallback);
    Py_CLEAR(self->decode_fallback);
    Node *root = self->root;
    self->root = NULL;
    node_free(root);
    return 0;
}

static void codec_dealloc(CodecObject *self)
{
    PyObject_GC_UnTrack(self);
    codec_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *codec_not_ready(void)
{
    PyErr_SetString(PyExc_RuntimeError, "Codec used before __init__");
    return NULL;
}

#define READY_OR_FAIL(self) if ((self)->root == NULL) return codec_not_ready()

static PyObject *m_encode(CodecObject *s, PyObject *v) { READY_OR_FAIL(s); return codec_encode(s, v); }
static PyObject *m_decode(CodecObject *s, PyObject *v) { READY_OR_FAIL(s); return codec_decode(s, v); }
static PyObject *m_raw_encode(CodecObject *s, PyObject *v) { READY_OR_FAIL(s); return codec_try_encode(s, v); }
static PyObject *m_raw_decode(CodecObject *s, PyObject *v) { READY_OR_FAIL(s); return codec_try_decode(s, v); }

static PyMethodDef codec_methods[] = {
    {"encode", (PyCFunction)m_encode, METH_O, "Encode; the fallback (reference path) for anything not handled."},
    {"decode", (PyCFunction)m_decode, METH_O, "Decode all of data; the fallback for anything not handled."},
    {"raw_encode", (PyCFunction)m_raw_encode, METH_O, "The C path alone: raises Unhandled (or the inner error)."},
    {"raw_decode", (PyCFunction)m_raw_decode, METH_O, "The C path alone: raises Unhandled (or the inner error)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CodecType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "coders.accel._speedups.Codec",
    .tp_basicsize = sizeof(CodecObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A coder tree compiled to C nodes, with the reference path as its fallback (see the module doc).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)codec_init,
    .tp_dealloc = (destructor)codec_dealloc,
    .tp_traverse = (traverseproc)codec_traverse,
    .tp_clear = (inquiry)codec_clear,
    .tp_methods = codec_methods,
};

/* ------------------------------------------------------------------ PySpark pickle files */

static uint32_t be32(const unsigned char *q)
{
    return ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) | ((uint32_t)q[2] << 8) | q[3];
}

/* contains(data, needle) -> bool: `needle in data` for any bytes-like data, with memchr finding the
 * candidates (the Spark reader asks it of every value, and its needle's first byte is rare). */
static PyObject *contains(PyObject *module, PyObject *args)
{
    Py_buffer hay, needle;
    if (!PyArg_ParseTuple(args, "y*y*:contains", &hay, &needle))
        return NULL;
    const char *h = hay.buf, *n = needle.buf;
    Py_ssize_t hl = hay.len, nl = needle.len;
    int found = nl == 0;
    for (Py_ssize_t at = 0; !found && nl <= hl - at;) {
        const char *c = memchr(h + at, n[0], (size_t)(hl - at - nl + 1));
        if (c == NULL)
            break;
        at = c - h;
        found = memcmp(c, n, (size_t)nl) == 0;
        at++;
    }
    PyBuffer_Release(&hay);
    PyBuffer_Release(&needle);
    return PyBool_FromLong(found);
}

/* load_spark_batches(data, base, loads, out, head, first, ref) -> (done, count, pos, bad)
 *
 * The fast path of pickling.spark.PickleFileDecoder.decode_into, in C: data[base:] should be
 * exactly what Spark writes, a Java-serialized byte[][] starting with `head` (stream header and
 * the [[B class descriptor), an int32 count, the first element (`first`: TC_ARRAY and a new [B
 * class descriptor, then a uint32 length and the bytes), then elements as `ref` (TC_ARRAY
 * TC_REFERENCE <handle of [B>), a uint32 length and the bytes. Each element is unpickled with
 * loads(bytes) and, when it is a list, appended to `out`.
 *
 * It stops at the first element not in that form, or whose loads raises an Exception (cleared),
 * or gives something other than a list, and returns (done, count, pos, bad): how many elements
 * it loaded, the declared count (0 when the header is not Spark's), the position after the last
 * loaded element, and the non-list batch it stopped at (else None). A length running past the end
 * is clipped, as the Python loop's slice is, and pos then lies past the end. The caller reports
 * every error (its reference parser takes over from element `done`), so this function never
 * needs to describe one; it only has to stop exactly where the Python loop would.
 */
static PyObject *load_spark_batches(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    /* METH_FASTCALL: called once per SequenceFile record, so no argument tuple is built */
    if (nargs != 7 || !PyList_Check(args[3]) || !PyBytes_Check(args[4]) || !PyBytes_Check(args[5]) ||
        !PyBytes_Check(args[6])) {
        PyErr_SetString(PyExc_TypeError,
                        "load_spark_batches(data, base: int, loads, out: list, head: bytes, first: bytes, ref: bytes)");
        return NULL;
    }
    PyObject *data = args[0], *loads = args[2], *out = args[3];
    Py_ssize_t base = PyLong_AsSsize_t(args[1]);
    if (base == -1 && PyErr_Occurred())
        return NULL;
    const char *head = PyBytes_AS_STRING(args[4]), *first = PyBytes_AS_STRING(args[5]), *ref = PyBytes_AS_STRING(args[6]);
    Py_ssize_t hl = PyBytes_GET_SIZE(args[4]), fl = PyBytes_GET_SIZE(args[5]), rl = PyBytes_GET_SIZE(args[6]);
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    const unsigned char *d = view.buf;
    Py_ssize_t end = view.len, done = 0, count = 0, pos = end;
    PyObject *result = NULL, *bad = NULL;
    Py_ssize_t prefix = hl + 4 + fl + 4;
    if (base < 0 || base > end || end - base < prefix || memcmp(d + base, head, (size_t)hl) != 0 ||
        memcmp(d + base + hl + 4, first, (size_t)fl) != 0)
        goto finish;  /* not Spark's exact header: count 0, the reference parser reads it all */
    count = (int32_t)be32(d + base + hl);
    Py_ssize_t start = base + prefix, length = (Py_ssize_t)be32(d + base + hl + 4 + fl);
    if (count <= 0 || length > end - start)
        goto finish;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (i > 0) {  /* every later element: ref, a uint32 length, the bytes */
            if (end - pos < rl + 4 || memcmp(d + pos, ref, (size_t)rl) != 0)
                break;
            start = pos + rl + 4;
            length = (Py_ssize_t)be32(d + pos + rl);
        }
        /* a length past the end is clipped, as a slice would be: the caller reports the framing */
        PyObject *chunk = PyBytes_FromStringAndSize((const char *)d + start, length < end - start ? length : end - start);
        if (chunk == NULL)
            goto error;
        PyObject *batch = PyObject_CallOneArg(loads, chunk);
        Py_DECREF(chunk);
        if (batch == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_Exception))
                goto error;
            PyErr_Clear();  /* the reference path loads it again and says why it fails */
            break;
        }
        if (!PyList_CheckExact(batch)) {
            bad = batch;  /* handed back: the caller names its type */
            break;
        }
        int r = PyList_SetSlice(out, PY_SSIZE_T_MAX, PY_SSIZE_T_MAX, batch);
        Py_DECREF(batch);
        if (r < 0)
            goto error;
        pos = start + length;
        done = i + 1;
    }
finish:
    result = Py_BuildValue("(nnnO)", done, count, pos, bad ? bad : Py_None);
error:
    Py_XDECREF(bad);
    PyBuffer_Release(&view);
    return result;
}

/* ------------------------------------------------------------------ module */

static PyMethodDef module_methods[] = {
    {"varint_methods", varint_methods, METH_VARARGS,
     "varint_methods(cls, encode_fallback, decode_fallback) -> (encode, decode) method descriptors for cls."},
    {"contains", contains, METH_VARARGS, "contains(data, needle) -> bool: needle in data (memchr-driven)."},
    {"load_spark_batches", (PyCFunction)(void (*)(void))load_spark_batches, METH_FASTCALL,
     "load_spark_batches(data, base, loads, out, head, first, ref) -> (done, count, pos, bad): see the C source."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT, "coders.accel._speedups",
    "Optional C accelerator for coderkit (see coders/speedups.py, which decides whether it is used).",
    -1, module_methods,
};

PyMODINIT_FUNC PyInit__speedups(void)
{
    if (PyType_Ready(&CodecType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&speedups_module);
    if (m == NULL)
        return NULL;
    Unhandled = PyErr_NewException("coders.accel._speedups.Unhandled", PyExc_ValueError, NULL);
    if (Unhandled == NULL || PyModule_AddObjectRef(m, "Unhandled", Unhandled) < 0 ||
        PyModule_AddObjectRef(m, "Codec", (PyObject *)&CodecType) < 0 ||
        PyModule_AddIntConstant(m, "ZERO_WIDTH_LIMIT", ZERO_WIDTH_LIMIT) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
