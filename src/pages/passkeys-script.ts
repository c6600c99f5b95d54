/**
 * The pages' WebAuthn script, written by hand (about 60 lines) rather than served from
 * @simplewebauthn/browser: it only turns the server's options JSON into the ArrayBuffers
 * navigator.credentials wants and the credential back into JSON for a form field. Every check is
 * the server's (src/passkeys/ceremony.ts, with @simplewebauthn/server). Inline, so it runs under the
 * page's CSP nonce with nothing else to load. The options come in the form's `data-options`
 * attribute (attribute-escaped), the credential goes back in its hidden `credential` field.
 */
const COMMON = `
var b2u=function(s){s=s.replace(/-/g,'+').replace(/_/g,'/');var b=atob(s),a=new Uint8Array(b.length);for(var i=0;i<b.length;i++)a[i]=b.charCodeAt(i);return a.buffer};
var u2b=function(buf){var a=new Uint8Array(buf),s='';for(var i=0;i<a.length;i++)s+=String.fromCharCode(a[i]);return btoa(s).replace(/\\+/g,'-').replace(/\\//g,'_').replace(/=+$/,'')};
var say=function(id,text){var el=document.getElementById(id);if(el){el.textContent=text;el.hidden=false}};
`;

/** The sign-in page: conditional UI (autofill on the email field) and the "Sign in with a passkey" button. */
export const SIGN_IN_SCRIPT = `(function(){
var form=document.getElementById('passkey-form');var button=document.getElementById('passkey-button');
if(!form||!button||!window.PublicKeyCredential||!navigator.credentials)return;
${COMMON}
var o=JSON.parse(form.getAttribute('data-options'));
var pending=null;
var send=function(c){var r=c.response;form.elements.credential.value=JSON.stringify({id:c.id,rawId:u2b(c.rawId),type:c.type,
response:{clientDataJSON:u2b(r.clientDataJSON),authenticatorData:u2b(r.authenticatorData),signature:u2b(r.signature),userHandle:r.userHandle?u2b(r.userHandle):undefined},
clientExtensionResults:c.getClientExtensionResults(),authenticatorAttachment:c.authenticatorAttachment||undefined});form.submit()};
var start=function(mediation){if(pending)pending.abort();pending=new AbortController();
var req={publicKey:{challenge:b2u(o.challenge),rpId:o.rpId,timeout:o.timeout,userVerification:o.userVerification,allowCredentials:[]},signal:pending.signal};
if(mediation)req.mediation=mediation;return navigator.credentials.get(req).then(function(c){if(c)send(c)})};
button.hidden=false;
button.addEventListener('click',function(){start().catch(function(e){if(e&&e.name!=='AbortError')say('passkey-status','No passkey was used. Try again, or sign in with your password.')})});
if(PublicKeyCredential.isConditionalMediationAvailable)PublicKeyCredential.isConditionalMediationAvailable().then(function(ok){if(ok)start('conditional').catch(function(){})});
})();`;

/** The account's passkeys page: "Add a passkey" makes one with navigator.credentials.create(). */
export const REGISTER_SCRIPT = `(function(){
var form=document.getElementById('passkey-add');
if(!form)return;
${COMMON}
if(!window.PublicKeyCredential||!navigator.credentials){say('passkey-status','This browser cannot make passkeys.');return}
var o=JSON.parse(form.getAttribute('data-options'));
form.addEventListener('submit',function(ev){ev.preventDefault();
navigator.credentials.create({publicKey:{challenge:b2u(o.challenge),rp:o.rp,user:{id:b2u(o.user.id),name:o.user.name,displayName:o.user.displayName},
pubKeyCredParams:o.pubKeyCredParams,timeout:o.timeout,attestation:o.attestation,authenticatorSelection:o.authenticatorSelection,
excludeCredentials:(o.excludeCredentials||[]).map(function(x){return{id:b2u(x.id),type:'public-key',transports:x.transports}})}})
.then(function(c){var r=c.response;form.elements.credential.value=JSON.stringify({id:c.id,rawId:u2b(c.rawId),type:c.type,
response:{clientDataJSON:u2b(r.clientDataJSON),attestationObject:u2b(r.attestationObject),transports:r.getTransports?r.getTransports():[]},
clientExtensionResults:c.getClientExtensionResults(),authenticatorAttachment:c.authenticatorAttachment||undefined});form.submit()})
.catch(function(e){say('passkey-status',e&&e.name==='InvalidStateError'?'This device already has a passkey for your account.':'No passkey was made. Try again.')})});
})();`;
