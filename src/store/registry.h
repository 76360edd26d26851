/*
 * src/store/registry.h — the sizes the registries' rows share: the third
 * parties' (third_party.h) and the subcontractors' (subcontractor.h).
 */
#ifndef CUSTODIAN_STORE_REGISTRY_H
#define CUSTODIAN_STORE_REGISTRY_H

#include "policy/policy.h"

#define CU_REGISTRY_ID_MAX       40           /* a-z 0-9 _ - (the form consent targets take) */
#define CU_REGISTRY_NAME_MAX     200          /* bytes of UTF-8 */
#define CU_REGISTRY_CONTACT_MAX  400          /* bytes of UTF-8 */
#define CU_REGISTRY_TEXT_MAX     2000         /* bytes of UTF-8: purpose of provision, findings */
#define CU_REGISTRY_MEASURES_MAX 4000         /* bytes: safety measures, one per line */
#define CU_REGISTRY_ACTOR_MAX    CU_ACTOR_MAX /* bytes: a token name, "operator" or a member id */
#define CU_REGISTRY_LIST_MAX     1023         /* bytes: policy names joined with ',' */

#endif
