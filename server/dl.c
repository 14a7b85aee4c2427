/* Loading a library on demand (see dl.h). */
#include <dlfcn.h>
#include <stdio.h>

#include "dl.h"

void *dl_load(const char *soname, const struct dl_sym *syms, size_t n, char *err,
              size_t errlen)
{
    void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(err, errlen, "cannot load %s: %s", soname, dlerror());
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        *syms[i].fn = dlsym(lib, syms[i].name);
        if (!*syms[i].fn) {
            snprintf(err, errlen, "%s has no %s", soname, syms[i].name);
            for (size_t k = 0; k < n; k++)
                *syms[k].fn = NULL;
            dlclose(lib);
            return NULL;
        }
    }
    return lib;
}
