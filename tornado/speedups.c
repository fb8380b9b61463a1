/* Optional C accelerator for tornado: WebSocket payload masking.
 *
 * websocket_mask(mask, data) XORs `data` with the 4-byte `mask` repeated
 * (RFC 6455 section 5.3) and returns the result as bytes.  It gives the same
 * results as tornado.util._websocket_mask_python, which is used when this
 * extension is not built.
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

static PyMethodDef speedups_methods[] = {
    {"websocket_mask", websocket_mask, METH_VARARGS,
     "websocket_mask(mask, data) -> bytes: XOR data with the 4-byte mask repeated."},
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
