/**
 * The subset of Hubble's Observer API that k8ops speaks, with Cilium's exact field numbers:
 * the proto text, one copy for the Flows feature's client and the demo lab's (and tests')
 * stand-in Observer server. Read from cilium/cilium `api/v1/flow/flow.proto` and
 * `api/v1/observer/observer.proto` (the copies vendored in the cilium/hubble v1.18.6 tag,
 * `vendor/github.com/cilium/cilium/api/v1/...`, are the authority for 1.18; see
 * ../shared/reference/net-apis.md §1). Fields k8ops does not read are left out: protobuf
 * skips unknown fields, so a newer agent's flows still decode. Package names are Cilium's,
 * so the method paths are the real ones (`/observer.Observer/GetFlows`). Text only: it
 * imports nothing, so demo/ and features/ both can.
 */

export const WKT_PROTO = `
syntax = "proto3";
package google.protobuf;
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
message BoolValue { bool value = 1; }
message Int32Value { int32 value = 1; }
message UInt32Value { uint32 value = 1; }
`;

/** cilium api/v1/flow/flow.proto (subset). */
export const FLOW_PROTO = `
syntax = "proto3";
package flow;

message Flow {
  google.protobuf.Timestamp time = 1;
  string uuid = 34;
  Verdict verdict = 2;
  uint32 drop_reason = 3;
  Ethernet ethernet = 4;
  IP IP = 5;
  Layer4 l4 = 6;
  Endpoint source = 8;
  Endpoint destination = 9;
  FlowType Type = 10;
  string node_name = 11;
  repeated string node_labels = 37;
  repeated string source_names = 13;
  repeated string destination_names = 14;
  Layer7 l7 = 15;
  bool reply = 16;
  CiliumEventType event_type = 19;
  Service source_service = 20;
  Service destination_service = 21;
  TrafficDirection traffic_direction = 22;
  uint32 policy_match_type = 23;
  TraceObservationPoint trace_observation_point = 24;
  DropReason drop_reason_desc = 25;
  google.protobuf.BoolValue is_reply = 26;
  NetworkInterface interface = 28;
  uint32 proxy_port = 29;
  TraceReason trace_reason = 36;
  FileInfo file = 38;
  repeated Policy egress_allowed_by = 21001;
  repeated Policy ingress_allowed_by = 21002;
  repeated Policy egress_denied_by = 21004;
  repeated Policy ingress_denied_by = 21005;
  string Summary = 100000;
}

enum FlowType { UNKNOWN_TYPE = 0; L3_L4 = 1; L7 = 2; SOCK = 3; }

enum TraceObservationPoint {
  UNKNOWN_POINT = 0; TO_PROXY = 1; TO_HOST = 2; TO_STACK = 3; TO_OVERLAY = 4;
  TO_ENDPOINT = 101; FROM_ENDPOINT = 5; FROM_PROXY = 6; FROM_HOST = 7; FROM_STACK = 8;
  FROM_OVERLAY = 9; FROM_NETWORK = 10; TO_NETWORK = 11;
}

enum TraceReason {
  TRACE_REASON_UNKNOWN = 0; NEW = 1; ESTABLISHED = 2; REPLY = 3; RELATED = 4;
}

message FileInfo { string name = 1; uint32 line = 2; }

message Layer4 {
  oneof protocol { TCP TCP = 1; UDP UDP = 2; ICMPv4 ICMPv4 = 3; ICMPv6 ICMPv6 = 4; SCTP SCTP = 5; }
}

enum L7FlowType { UNKNOWN_L7_TYPE = 0; REQUEST = 1; RESPONSE = 2; SAMPLE = 3; }

message Layer7 {
  L7FlowType type = 1;
  uint64 latency_ns = 2;
  oneof record { DNS dns = 100; HTTP http = 101; }
}

message Endpoint {
  uint32 ID = 1;
  uint32 identity = 2;
  string cluster_name = 7;
  string namespace = 3;
  repeated string labels = 4;
  string pod_name = 5;
  repeated Workload workloads = 6;
}

message Workload { string name = 1; string kind = 2; }

message TCP { uint32 source_port = 1; uint32 destination_port = 2; TCPFlags flags = 3; }

message IP {
  string source = 1;
  string source_xlated = 5;
  string destination = 2;
  IPVersion ipVersion = 3;
  bool encrypted = 4;
}

message Ethernet { string source = 1; string destination = 2; }

message TCPFlags {
  bool FIN = 1; bool SYN = 2; bool RST = 3; bool PSH = 4; bool ACK = 5;
  bool URG = 6; bool ECE = 7; bool CWR = 8; bool NS = 9;
}

message UDP { uint32 source_port = 1; uint32 destination_port = 2; }
message SCTP { uint32 source_port = 1; uint32 destination_port = 2; }
message ICMPv4 { uint32 type = 1; uint32 code = 2; }
message ICMPv6 { uint32 type = 1; uint32 code = 2; }

enum IPVersion { IP_NOT_USED = 0; IPv4 = 1; IPv6 = 2; }

enum Verdict {
  VERDICT_UNKNOWN = 0; FORWARDED = 1; DROPPED = 2; ERROR = 3; AUDIT = 4;
  REDIRECTED = 5; TRACED = 6; TRANSLATED = 7;
}

enum DropReason {
  DROP_REASON_UNKNOWN = 0;
  INVALID_SOURCE_MAC = 130; INVALID_DESTINATION_MAC = 131; INVALID_SOURCE_IP = 132;
  POLICY_DENIED = 133; INVALID_PACKET_DROPPED = 134; CT_TRUNCATED_OR_INVALID_HEADER = 135;
  CT_MISSING_TCP_ACK_FLAG = 136; CT_UNKNOWN_L4_PROTOCOL = 137;
  CT_CANNOT_CREATE_ENTRY_FROM_PACKET = 138; UNSUPPORTED_L3_PROTOCOL = 139;
  MISSED_TAIL_CALL = 140; ERROR_WRITING_TO_PACKET = 141; UNKNOWN_L4_PROTOCOL = 142;
  UNKNOWN_ICMPV4_CODE = 143; UNKNOWN_ICMPV4_TYPE = 144; UNKNOWN_ICMPV6_CODE = 145;
  UNKNOWN_ICMPV6_TYPE = 146; ERROR_RETRIEVING_TUNNEL_KEY = 147;
  ERROR_RETRIEVING_TUNNEL_OPTIONS = 148; INVALID_GENEVE_OPTION = 149;
  UNKNOWN_L3_TARGET_ADDRESS = 150; STALE_OR_UNROUTABLE_IP = 151;
  NO_MATCHING_LOCAL_CONTAINER_FOUND = 152; ERROR_WHILE_CORRECTING_L3_CHECKSUM = 153;
  ERROR_WHILE_CORRECTING_L4_CHECKSUM = 154; CT_MAP_INSERTION_FAILED = 155;
  INVALID_IPV6_EXTENSION_HEADER = 156; IP_FRAGMENTATION_NOT_SUPPORTED = 157;
  SERVICE_BACKEND_NOT_FOUND = 158; NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT = 160;
  FAILED_TO_INSERT_INTO_PROXYMAP = 161; REACHED_EDT_RATE_LIMITING_DROP_HORIZON = 162;
  UNKNOWN_CONNECTION_TRACKING_STATE = 163; LOCAL_HOST_IS_UNREACHABLE = 164;
  NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION = 165; UNSUPPORTED_L2_PROTOCOL = 166;
  NO_MAPPING_FOR_NAT_MASQUERADE = 167; UNSUPPORTED_PROTOCOL_FOR_NAT_MASQUERADE = 168;
  FIB_LOOKUP_FAILED = 169; ENCAPSULATION_TRAFFIC_IS_PROHIBITED = 170; INVALID_IDENTITY = 171;
  UNKNOWN_SENDER = 172; NAT_NOT_NEEDED = 173; IS_A_CLUSTERIP = 174;
  FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND = 175; FORBIDDEN_ICMPV6_MESSAGE = 176;
  DENIED_BY_LB_SRC_RANGE_CHECK = 177; SOCKET_LOOKUP_FAILED = 178; SOCKET_ASSIGN_FAILED = 179;
  PROXY_REDIRECTION_NOT_SUPPORTED_FOR_PROTOCOL = 180; POLICY_DENY = 181; VLAN_FILTERED = 182;
  INVALID_VNI = 183; INVALID_TC_BUFFER = 184; NO_SID = 185; MISSING_SRV6_STATE = 186;
  NAT46 = 187; NAT64 = 188; AUTH_REQUIRED = 189; CT_NO_MAP_FOUND = 190;
  SNAT_NO_MAP_FOUND = 191; INVALID_CLUSTER_ID = 192; UNSUPPORTED_PROTOCOL_FOR_DSR_ENCAP = 193;
  NO_EGRESS_GATEWAY = 194; UNENCRYPTED_TRAFFIC = 195; TTL_EXCEEDED = 196; NO_NODE_ID = 197;
  IGMP_HANDLED = 199; IGMP_SUBSCRIBED = 200; MULTICAST_HANDLED = 201;
  DROP_HOST_NOT_READY = 202; DROP_EP_NOT_READY = 203; DROP_NO_EGRESS_IP = 204;
  DROP_PUNT_PROXY = 205;
}

enum TrafficDirection { TRAFFIC_DIRECTION_UNKNOWN = 0; INGRESS = 1; EGRESS = 2; }

message EventTypeFilter { int32 type = 1; bool match_sub_type = 2; int32 sub_type = 3; }

message CiliumEventType { int32 type = 1; int32 sub_type = 2; }

message FlowFilter {
  repeated string source_ip = 1;
  repeated string source_pod = 2;
  repeated string destination_ip = 3;
  repeated string destination_pod = 4;
  repeated Verdict verdict = 5;
  repeated EventTypeFilter event_type = 6;
  repeated string source_label = 10;
  repeated string destination_label = 11;
  repeated string protocol = 12;
  repeated string source_port = 13;
  repeated string destination_port = 14;
  repeated bool reply = 15;
  repeated string source_service = 16;
  repeated string destination_service = 17;
  repeated string node_name = 24;
  repeated TrafficDirection traffic_direction = 30;
  repeated DropReason drop_reason_desc = 33;
}

message DNS {
  string query = 1; repeated string ips = 2; uint32 ttl = 3; repeated string cnames = 4;
  string observation_source = 5; uint32 rcode = 6; repeated string qtypes = 7;
  repeated string rrtypes = 8;
}

message HTTPHeader { string key = 1; string value = 2; }

message HTTP {
  uint32 code = 1; string method = 2; string url = 3; string protocol = 4;
  repeated HTTPHeader headers = 5;
}

message Service { string name = 1; string namespace = 2; }

message Policy {
  string name = 1; string namespace = 2; repeated string labels = 3; uint64 revision = 4;
  string kind = 5;
}

message NetworkInterface { uint32 index = 1; string name = 2; }

enum LostEventSource {
  UNKNOWN_LOST_EVENT_SOURCE = 0; PERF_EVENT_RING_BUFFER = 1; OBSERVER_EVENTS_QUEUE = 2;
  HUBBLE_RING_BUFFER = 3;
}

message LostEvent {
  LostEventSource source = 1;
  uint64 num_events_lost = 2;
  google.protobuf.Int32Value cpu = 3;
}
`;

/** cilium api/v1/relay/relay.proto (NodeStatusEvent, as GetFlowsResponse carries it). */
export const RELAY_PROTO = `
syntax = "proto3";
package relay;
enum NodeState {
  UNKNOWN_NODE_STATE = 0; NODE_CONNECTED = 1; NODE_UNAVAILABLE = 2; NODE_GONE = 3; NODE_ERROR = 4;
}
message NodeStatusEvent { NodeState state_change = 1; repeated string node_names = 2; string message = 3; }
`;

/** cilium api/v1/observer/observer.proto (subset: GetFlows, ServerStatus). */
export const OBSERVER_PROTO = `
syntax = "proto3";
package observer;

service Observer {
  rpc GetFlows(GetFlowsRequest) returns (stream GetFlowsResponse) {}
  rpc ServerStatus(ServerStatusRequest) returns (ServerStatusResponse) {}
}

message GetFlowsRequest {
  uint64 number = 1;
  bool first = 9;
  bool follow = 3;
  repeated flow.FlowFilter blacklist = 5;
  repeated flow.FlowFilter whitelist = 6;
  google.protobuf.Timestamp since = 7;
  google.protobuf.Timestamp until = 8;
}

message GetFlowsResponse {
  oneof response_types {
    flow.Flow flow = 1;
    relay.NodeStatusEvent node_status = 2;
    flow.LostEvent lost_events = 3;
  }
  string node_name = 1000;
  google.protobuf.Timestamp time = 1001;
}

message ServerStatusRequest {}

message ServerStatusResponse {
  uint64 num_flows = 1;
  uint64 max_flows = 2;
  uint64 seen_flows = 3;
  uint64 uptime_ns = 4;
  google.protobuf.UInt32Value num_connected_nodes = 5;
  google.protobuf.UInt32Value num_unavailable_nodes = 6;
  repeated string unavailable_nodes = 7;
  string version = 8;
  double flows_rate = 9;
}
`;

/** The method paths (package.Service/Method), as grpc-js dials them. */
export const GET_FLOWS = '/observer.Observer/GetFlows';
export const SERVER_STATUS = '/observer.Observer/ServerStatus';
