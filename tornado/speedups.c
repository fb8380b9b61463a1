/* Optional C accelerators for tornado.
 *
 * Each function here has a pure-Python twin that gives the same results and
 * is used when this extension is not built or TORNADO_NO_EXTENSION is set
 * (tests/test_speedups.py feeds both the same inputs, malformed ones
 * included):
 *
 * websocket_mask(mask, data) XORs `data` with the 4-byte `mask` repeated
 * (RFC 6455 section 5.3) and returns the result as bytes; its twin is
 * tornado.util._websocket_mask_python.
 *
 * split_request_head(data) splits a well-formed HTTP/1 request head; its
 * twin is tornado.http1connection._split_request_head_py (see there).
 *
 * format_head(first_line, fields) formats a message head from plain text;
 * None sends anything unusual back to tornado.http1connection._format_head,
 * which it otherwise equals.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static PyObject *
websocket_mask(PyObject *self, PyObject *args)
{
    Py_buffer mask, data;
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "y*y*:websocket_mask", &mask, &data)) {
        return NULL;
    }
    if (mask.len != 4) {
        PyErr_Format(PyExc_ValueError,
                     "websocket mask must be 4 bytes, got %zd", mask.len);
        goto done;
    }
    result = PyBytes_FromStringAndSize(NULL, data.len);
    if (result == NULL) {
        goto done;
    }
    {
        const unsigned char *in = (const unsigned char *)data.buf;
        const unsigned char *key = (const unsigned char *)mask.buf;
        unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
        Py_ssize_t n = data.len, i = 0;
        /* Eight bytes at a time: the mask repeated twice fills a word, and
         * memcpy keeps the loads and stores free of alignment assumptions. */
        uint64_t key8;
        unsigned char key_bytes[8];
        memcpy(key_bytes, key, 4);
        memcpy(key_bytes + 4, key, 4);
        memcpy(&key8, key_bytes, 8);
        for (; i + 8 <= n; i += 8) {
            uint64_t word;
            memcpy(&word, in + i, 8);
            word ^= key8;
            memcpy(out + i, &word, 8);
        }
        for (; i < n; i++) {
            out[i] = in[i] ^ key[i & 3];
        }
    }

done:
    PyBuffer_Release(&mask);
    PyBuffer_Release(&data);
    return result;
}

/* RFC 9110 section 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*"
 * / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. */
static int
is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
        return 1;
    }
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '.': case '^': case '_': case '`': case '|':
    case '~':
        return 1;
    default:
        return 0;
    }
}

/* VCHAR / obs-text: what a request-target is made of here (the server's
 * lenient target, see http1connection) and what a field value's first and
 * last characters are. */
static int
is_vchar(unsigned char c)
{
    return (c >= 0x21 && c <= 0x7e) || c >= 0x80;
}

/* A field line's content after the colon: HTAB, SP, VCHAR, obs-text. */
static int
is_field_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c <= 0x7e) || c >= 0x80;
}

/* Latin-1 text of data[start:end] (header bytes are opaque octets, RFC
 * 9110 section 5.5, read one character per byte as the Python path does). */
static PyObject *
latin1(const unsigned char *data, Py_ssize_t start, Py_ssize_t end)
{
    return PyUnicode_DecodeLatin1((const char *)data + start, end - start, NULL);
}

/* split_request_head(data) -> (method, target, version, [(name, value)...])
 * or None.
 *
 * The fast path of request parsing: data is a whole request head (up to
 * and with its empty line).  When it is made only of
 *
 *   request-line = token SP 1*( VCHAR / obs-text ) SP "HTTP/1." DIGIT
 *   field-line   = token ":" *( HTAB / SP / VCHAR / obs-text )
 *
 * each ended by CRLF or LF (the last one's terminator optional), with
 * empty lines anywhere after the request line, the parts come back as
 * text, each field value without the blanks around it.  Anything else is
 * None, and the careful Python parser handles it (and says what is wrong).
 * This is exactly what http1connection._REQUEST_HEAD_RE accepts. */
static PyObject *
split_request_head(PyObject *self, PyObject *arg)
{
    Py_buffer view;
    PyObject *fields = NULL, *result = NULL;
    const unsigned char *d;
    Py_ssize_t n, i, method_end, target_start, target_end, version_start;

    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    d = (const unsigned char *)view.buf;
    n = view.len;
    i = 0;
    /* request-line */
    while (i < n && is_tchar(d[i])) {
        i++;
    }
    if (i == 0 || i >= n || d[i] != ' ') {
        goto not_fast;
    }
    method_end = i++;
    target_start = i;
    while (i < n && is_vchar(d[i])) {
        i++;
    }
    if (i == target_start || i >= n || d[i] != ' ') {
        goto not_fast;
    }
    target_end = i++;
    version_start = i;
    if (n - i < 8 || memcmp(d + i, "HTTP/1.", 7) != 0 || d[i + 7] < '0' || d[i + 7] > '9') {
        goto not_fast;
    }
    i += 8;
    if (i < n && d[i] == '\r') {
        i++;
    }
    if (i >= n || d[i] != '\n') {
        goto not_fast;
    }
    i++;
    fields = PyList_New(0);
    if (fields == NULL) {
        goto done;
    }
    /* field lines and empty lines */
    while (i < n) {
        Py_ssize_t name_start, name_end, value_start, value_end, line_end;
        PyObject *name, *value, *pair;
        if (d[i] == '\n') {
            i++;
            continue;
        }
        if (d[i] == '\r' && i + 1 < n && d[i + 1] == '\n') {
            i += 2;
            continue;
        }
        name_start = i;
        while (i < n && is_tchar(d[i])) {
            i++;
        }
        if (i == name_start || i >= n || d[i] != ':') {
            goto not_fast;
        }
        name_end = i++;
        while (i < n && is_field_char(d[i])) {
            i++;
        }
        line_end = i;
        if (i < n) {
            if (d[i] == '\r' && i + 1 < n && d[i + 1] == '\n') {
                i += 2;
            } else if (d[i] == '\n') {
                i++;
            } else {
                goto not_fast;
            }
        }
        value_start = name_end + 1;
        value_end = line_end;
        while (value_start < value_end && (d[value_start] == ' ' || d[value_start] == '\t')) {
            value_start++;
        }
        while (value_end > value_start && (d[value_end - 1] == ' ' || d[value_end - 1] == '\t')) {
            value_end--;
        }
        name = latin1(d, name_start, name_end);
        value = name == NULL ? NULL : latin1(d, value_start, value_end);
        pair = value == NULL ? NULL : PyTuple_Pack(2, name, value);
        Py_XDECREF(name);
        Py_XDECREF(value);
        if (pair == NULL || PyList_Append(fields, pair) < 0) {
            Py_XDECREF(pair);
            goto done;
        }
        Py_DECREF(pair);
    }
    {
        PyObject *method = latin1(d, 0, method_end);
        PyObject *target = method == NULL ? NULL : latin1(d, target_start, target_end);
        PyObject *version = target == NULL ? NULL : latin1(d, version_start, version_start + 8);
        if (version != NULL) {
            result = PyTuple_Pack(4, method, target, version, fields);
        }
        Py_XDECREF(method);
        Py_XDECREF(target);
        Py_XDECREF(version);
    }
    goto done;

not_fast:
    result = Py_None;
    Py_INCREF(result);
done:
    Py_XDECREF(fields);
    PyBuffer_Release(&view);
    return result;
}

/* format_head(first_line, fields) -> bytes or None.
 *
 * first_line: the start line with its CRLF (str); fields: a dict of header
 * name -> list of values, all str.  The result is first_line, then
 * "name: value\r\n" per value, then "\r\n", encoded as Latin-1: what
 * http1connection._format_head returns.  None whenever that function
 * would do more than this: a value that is not exactly a str, a
 * character beyond Latin-1, a CR or LF anywhere but at the end of
 * first_line (it then raises the error that names the line). */
static PyObject *
format_head(PyObject *self, PyObject *args)
{
    PyObject *first_line, *fields, *name, *values, *result;
    Py_ssize_t pos = 0, size, first_len, i, k, out;
    char *buf;

    if (!PyArg_ParseTuple(args, "UO!:format_head", &first_line, &PyDict_Type, &fields)) {
        return NULL;
    }
    if (PyUnicode_KIND(first_line) != PyUnicode_1BYTE_KIND) {
        Py_RETURN_NONE;
    }
    first_len = PyUnicode_GET_LENGTH(first_line);
    {
        const Py_UCS1 *c = PyUnicode_1BYTE_DATA(first_line);
        if (first_len < 2 || c[first_len - 2] != '\r' || c[first_len - 1] != '\n') {
            Py_RETURN_NONE;
        }
        for (i = 0; i < first_len - 2; i++) {
            if (c[i] == '\r' || c[i] == '\n') {
                Py_RETURN_NONE;
            }
        }
    }
    /* First pass: check everything and add up the size. */
    size = first_len + 2;
    while (PyDict_Next(fields, &pos, &name, &values)) {
        Py_ssize_t name_len;
        if (!PyUnicode_CheckExact(name) || PyUnicode_KIND(name) != PyUnicode_1BYTE_KIND
            || !PyList_CheckExact(values)) {
            Py_RETURN_NONE;
        }
        name_len = PyUnicode_GET_LENGTH(name);
        {
            const Py_UCS1 *c = PyUnicode_1BYTE_DATA(name);
            for (i = 0; i < name_len; i++) {
                if (c[i] == '\r' || c[i] == '\n') {
                    Py_RETURN_NONE;
                }
            }
        }
        for (k = 0; k < PyList_GET_SIZE(values); k++) {
            PyObject *value = PyList_GET_ITEM(values, k);
            Py_ssize_t value_len;
            const Py_UCS1 *c;
            if (!PyUnicode_CheckExact(value) || PyUnicode_KIND(value) != PyUnicode_1BYTE_KIND) {
                Py_RETURN_NONE;
            }
            value_len = PyUnicode_GET_LENGTH(value);
            c = PyUnicode_1BYTE_DATA(value);
            for (i = 0; i < value_len; i++) {
                if (c[i] == '\r' || c[i] == '\n') {
                    Py_RETURN_NONE;
                }
            }
            size += name_len + 2 + value_len + 2;
        }
    }
    /* Second pass: copy. */
    result = PyBytes_FromStringAndSize(NULL, size);
    if (result == NULL) {
        return NULL;
    }
    buf = PyBytes_AS_STRING(result);
    memcpy(buf, PyUnicode_1BYTE_DATA(first_line), first_len);
    out = first_len;
    pos = 0;
    while (PyDict_Next(fields, &pos, &name, &values)) {
        Py_ssize_t name_len = PyUnicode_GET_LENGTH(name);
        for (k = 0; k < PyList_GET_SIZE(values); k++) {
            PyObject *value = PyList_GET_ITEM(values, k);
            Py_ssize_t value_len = PyUnicode_GET_LENGTH(value);
            memcpy(buf + out, PyUnicode_1BYTE_DATA(name), name_len);
            out += name_len;
            buf[out++] = ':';
            buf[out++] = ' ';
            memcpy(buf + out, PyUnicode_1BYTE_DATA(value), value_len);
            out += value_len;
            buf[out++] = '\r';
            buf[out++] = '\n';
        }
    }
    buf[out++] = '\r';
    buf[out++] = '\n';
    return result;
}

static PyMethodDef speedups_methods[] = {
    {"websocket_mask", websocket_mask, METH_VARARGS,
     "websocket_mask(mask, data) -> bytes: XOR data with the 4-byte mask repeated."},
    {"format_head", format_head, METH_VARARGS,
     "format_head(first_line, fields) -> bytes or None: a message head from plain text "
     "(None: let the Python formatter decide)."},
    {"split_request_head", split_request_head, METH_O,
     "split_request_head(data) -> (method, target, version, fields) or None: the parts "
     "of a well-formed HTTP/1 request head (None: let the Python parser decide)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT, "tornado.speedups",
    "C accelerators for tornado (optional).", -1, speedups_methods,
};

PyMODINIT_FUNC
PyInit_speedups(void)
{
    return PyModule_Create(&speedups_module);
}
