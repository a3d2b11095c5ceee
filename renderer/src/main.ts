import { mount } from 'svelte';
import App from '../components/App.svelte';
import { connectBridge } from '../lib/bridge';
import { Conversation } from '../lib/state/Conversation.svelte';
import './styles.css';

const target = document.getElementById('app');
if (target === null) throw new Error('index.html is missing #app');
mount(App, { target, props: { conversation: new Conversation(connectBridge()) } });
