//! The contract's operation names as constants (CONTRACT §1 "Operation constants").
//!
//! These are the Rust spelling of the reference SDK's `ModelOperation`, `DBOperation`, `StorageOperation`
//! and `MessagingOperation`. The macros take any string (an unknown operation is case-normalized and
//! passed through), so the constants are there to avoid typos, not to restrict:
//!
//! ```
//! use botanu::operation::{DbOperation, ModelOperation};
//! use botanu::prelude::*;
//!
//! let _llm = llm_span!(provider = "openai", model = "text-embedding-3-small", operation = ModelOperation::EMBEDDINGS);
//! let _db = db_span!(system = "postgresql", operation = DbOperation::SELECT);
//! assert!(botanu::normalize::is_model_operation(ModelOperation::EMBEDDINGS));
//! assert!(!botanu::normalize::is_model_operation(ModelOperation::INVOKE_AGENT));
//! ```

macro_rules! operations {
    ($(#[$doc:meta])* $ty:ident { $($(#[$cdoc:meta])* $name:ident = $value:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct $ty;

        impl $ty {
            $($(#[$cdoc])* pub const $name: &'static str = $value;)+
            /// Every operation of this kind, in the contract's order.
            pub const ALL: &'static [&'static str] = &[$($value),+];
        }
    };
}

operations! {
    /// GenAI operations (`gen_ai.operation.name`), lower case.
    ModelOperation {
        /// A chat completion (the default of `llm_span!`).
        CHAT = "chat",
        /// A legacy text completion.
        TEXT_COMPLETION = "text_completion",
        /// An embeddings request.
        EMBEDDINGS = "embeddings",
        /// Gemini's `generateContent`.
        GENERATE_CONTENT = "generate_content",
        /// A tool execution (not a model call).
        EXECUTE_TOOL = "execute_tool",
        /// Creating an agent (not a model call).
        CREATE_AGENT = "create_agent",
        /// Invoking an agent (not a model call: the model calls inside it are).
        INVOKE_AGENT = "invoke_agent",
        /// A rerank request.
        RERANK = "rerank",
        /// Image generation.
        IMAGE_GENERATION = "image_generation",
        /// Image editing.
        IMAGE_EDIT = "image_edit",
        /// Speech to text.
        SPEECH_TO_TEXT = "speech_to_text",
        /// Text to speech.
        TEXT_TO_SPEECH = "text_to_speech",
        /// Content moderation.
        MODERATION = "moderation",
    }
}

operations! {
    /// Database operations (`db.operation`), upper case.
    DbOperation {
        /// `SELECT`.
        SELECT = "SELECT",
        /// `INSERT`.
        INSERT = "INSERT",
        /// `UPDATE`.
        UPDATE = "UPDATE",
        /// `DELETE`.
        DELETE = "DELETE",
        /// `UPSERT`.
        UPSERT = "UPSERT",
        /// `MERGE`.
        MERGE = "MERGE",
        /// `CREATE`.
        CREATE = "CREATE",
        /// `DROP`.
        DROP = "DROP",
        /// `ALTER`.
        ALTER = "ALTER",
        /// `INDEX`.
        INDEX = "INDEX",
        /// `TRANSACTION`.
        TRANSACTION = "TRANSACTION",
        /// `BATCH`.
        BATCH = "BATCH",
    }
}

operations! {
    /// Object storage operations (`botanu.storage.operation`), upper case.
    StorageOperation {
        /// Read an object.
        GET = "GET",
        /// Write an object.
        PUT = "PUT",
        /// Delete an object.
        DELETE = "DELETE",
        /// List a bucket.
        LIST = "LIST",
        /// Read an object's metadata.
        HEAD = "HEAD",
        /// Copy an object.
        COPY = "COPY",
        /// A multipart upload.
        MULTIPART_UPLOAD = "MULTIPART_UPLOAD",
    }
}

operations! {
    /// Messaging operations (`messaging.operation`), lower case. `publish` and `send` make PRODUCER spans.
    MessagingOperation {
        /// Publish to a topic.
        PUBLISH = "publish",
        /// Consume a message.
        CONSUME = "consume",
        /// Receive (pull) a message.
        RECEIVE = "receive",
        /// Send to a queue.
        SEND = "send",
        /// Subscribe to a topic.
        SUBSCRIBE = "subscribe",
    }
}

/// GenAI operations that are not model calls and are not in [`ModelOperation`]: other instrumentations
/// write them (OTel semconv's `invoke_workflow`).
pub(crate) const INVOKE_WORKFLOW: &str = "invoke_workflow";
