// Shared fixture for the fuzz targets: an in-memory CA hierarchy built once
// per process, wired like the server (CRLs and OCSP attached).
#pragma once

#include "core/ca_manager.h"
#include "core/key_store.h"
#include "eventstore/memory_kv_store.h"
#include "objects/ca_objects_store.h"
#include "objects/ocsp_responder.h"

namespace cairn::fuzz {

struct Harness {
  MemoryKvStore kv;
  MemoryKeyStore keys;
  Signer signer{keys};
  SystemClock clock;
  CaManager manager{kv, signer, clock, CaManagerConfig{"http://fuzz.test", 0, nullptr}};
  CaObjectsStore objects{kv, signer, clock, {}};
  OcspResponder ocsp{manager, signer};

  Harness() {
    objects.attach(manager.store());
    ocsp.attach();
    manager.create_ca("fuzz", CreateCaRequest{"root", "CN=Fuzz Root", "ec-p256", "", 3650});
    manager.create_ca("fuzz", CreateCaRequest{"issuing", "CN=Fuzz Issuing", "ec-p256", "root", 1825});
  }

  static Harness& get() {
    static Harness h;
    return h;
  }
};

}  // namespace cairn::fuzz
